"""Structured logs: every line one JSON object with time, level, logger, message, request id,
RQ job id and shop, through the real logging configuration."""

from __future__ import annotations

import datetime
import gc
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import django_rq
import pytest
from django.test import Client
from rq.job import JobStatus

from notifyme.core import logcontext
from tests.core.test_log_redaction import TOKEN, _gunicorn_config, _gunicorn_request
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.shopify import id_token, make_shop, make_variant, signed_webhook
from tests.observe.conftest import Captured
from tests.subscriptions.helpers import subscribe
from tests.sync.conftest import make_merchant

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"time", "level", "logger", "message", "request_id", "job_id", "shop"}


def _post_webhook(client: Client, topic: str, **headers: str) -> tuple[int, dict[str, str]]:
    body, signed = signed_webhook(topic, {"id": 1}, shop_domain="demo-shop.myshopify.com")
    response = client.post("/webhooks/shopify", body, content_type="application/json",
                           **signed, **headers)
    return response.status_code, dict(response.headers)


@pytest.mark.django_db
def test_a_request_logs_its_forwarded_request_id_and_the_verified_shop(
        client: Client, json_log: Captured) -> None:
    make_shop()
    status, headers = _post_webhook(client, "carts/create",
                                    HTTP_X_REQUEST_ID="lb-7f3a9c2e-0001")
    assert status == 200
    assert headers["X-Request-ID"] == "lb-7f3a9c2e-0001"
    (line,) = [r for r in json_log.records() if "not handled" in r["message"]]
    assert KEYS <= set(line)
    assert line["request_id"] == "lb-7f3a9c2e-0001"
    assert line["shop"] == "demo-shop.myshopify.com"
    assert line["level"] == "INFO" and line["logger"] == "notifyme.webhooks.intake"
    assert line["time"].endswith("Z") and line["job_id"] == ""


@pytest.mark.django_db
def test_a_storefront_signup_logs_the_proxied_shop_and_no_contact(
        client: Client, json_log: Captured) -> None:
    """The signed app-proxy path binds its shop; the signup's line keeps to ids (the masking
    of emails in test_redaction.py is the safety net, not the plan)."""
    make_variant(make_shop(), shopify_id=4001, quantity=0)
    response = subscribe(client, {"variant_id": 4001, "email": "ada.lovelace@example.com"},
                         HTTP_X_REQUEST_ID="shopify-proxy-req-42")
    assert response.status_code in {200, 201}, response.content
    (line,) = [r for r in json_log.records() if "storefront subscription" in r["message"]]
    assert line["shop"] == "demo-shop.myshopify.com"
    assert line["request_id"] == response["X-Request-ID"] == "shopify-proxy-req-42"
    assert "ada.lovelace@example.com" not in json_log.getvalue()


@pytest.mark.django_db
def test_an_embedded_app_call_logs_the_id_tokens_shop(
        client: Client, json_log: Captured, klaviyo_sandbox: SandboxHandle) -> None:
    """The merchant's Bearer ID token names the shop (its verified `dest`)."""
    merchant = make_merchant(klaviyo_sandbox)
    response = client.post("/app/api/klaviyo/disconnect", {}, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {id_token(merchant.shop.domain)}")
    assert response.status_code == 200, response.content
    (line,) = [r for r in json_log.records() if "klaviyo disconnected" in r["message"]]
    assert line["shop"] == "demo-shop.myshopify.com"
    assert line["request_id"] == response["X-Request-ID"]


@pytest.mark.django_db
@pytest.mark.parametrize("incoming", [None, "", "short", "x" * 200,
                                      'abc\n{"level": "ERROR"}', "id with spaces in it"])
def test_a_missing_or_insane_request_id_is_replaced_by_a_new_one(
        client: Client, json_log: Captured, incoming: str | None) -> None:
    extra = {} if incoming is None else {"HTTP_X_REQUEST_ID": incoming}
    status, headers = _post_webhook(client, "carts/create", **extra)
    assert status == 200
    generated = headers["X-Request-ID"]
    assert generated != incoming and len(generated) == 32
    int(generated, 16)
    (line,) = [r for r in json_log.records() if "not handled" in r["message"]]
    assert line["request_id"] == generated


@pytest.mark.django_db
def test_unsigned_webhook_warning_names_the_request_but_no_unverified_shop(
        client: Client, json_log: Captured) -> None:
    body, headers = signed_webhook("products/update", {"id": 1},
                                   shop_domain="victim.myshopify.com", secret="wrong" * 10)
    response = client.post("/webhooks/shopify", body, content_type="application/json",
                           **headers)
    assert response.status_code == 401
    (line,) = [r for r in json_log.records() if "webhook refused" in r["message"]]
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert line["shop"] == ""  # a forged header names no shop on our lines


def test_the_context_ends_with_its_scope_and_nothing_binds_outside_one() -> None:
    with logcontext.scope(job_id="job-1"):
        logcontext.bind_shop("a.myshopify.com")
        assert dict(logcontext.current()) == {"job_id": "job-1", "shop": "a.myshopify.com"}
        with logcontext.scope(request_id="inner-request-1"):
            assert dict(logcontext.current()) == {"request_id": "inner-request-1"}
        assert logcontext.current()["shop"] == "a.myshopify.com"
    assert dict(logcontext.current()) == {}
    logcontext.bind_shop("b.myshopify.com")  # e.g. the sweeper: no scope, nothing sticks
    assert dict(logcontext.current()) == {}


def log_inside_a_job(domain: str) -> str:
    """An RQ job (by path) that binds a shop and logs, as the app's jobs do."""
    logcontext.bind_shop(domain)
    logging.getLogger("notifyme.jobs.probe").warning("probe job for %s", domain)
    return "done"


@pytest.mark.django_db
def test_worker_lines_carry_the_job_id_and_the_shop_only_of_their_own_job(
        json_log: Captured) -> None:
    queue = django_rq.get_queue("default", commit_mode="auto")  # not held for a commit
    first = queue.enqueue(log_inside_a_job, "first.myshopify.com")
    second = queue.enqueue(logging.getLogger("notifyme.jobs.probe").warning, "no shop here")
    worker = django_rq.get_worker("default")  # the app's worker class, as rqworker builds it
    saved = gc.get_threshold()
    try:
        worker.work(burst=True)
    finally:  # the worker ran in this process: undo its gc freeze and threshold
        gc.unfreeze()
        gc.set_threshold(*saved)
    assert first.get_status(refresh=True) == JobStatus.FINISHED
    assert second.get_status(refresh=True) == JobStatus.FINISHED
    lines = json_log.records()
    (probe,) = [r for r in lines if r["message"] == "probe job for first.myshopify.com"]
    assert probe["job_id"] == first.id and probe["shop"] == "first.myshopify.com"
    (plain,) = [r for r in lines if r["message"] == "no shop here"]
    assert plain["job_id"] == second.id and plain["shop"] == ""
    # rq's own lines ("Job OK") go through the same handler, with the job's id.
    assert any(r["logger"] == "rq.worker" and r["job_id"] == first.id for r in lines)
    assert all(r["request_id"] == "" for r in lines)


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"LOG_FORMAT", "DEBUG"}}
    return subprocess.run(  # noqa: S603 - our own interpreter, fixed code
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**clean, "DJANGO_SETTINGS_MODULE": "notifyme.settings", "DEBUG": "1", **env},
        check=False)


LOG_SOMETHING = ("import django, logging; django.setup(); "
                 "logging.getLogger('notifyme.probe').warning('two\\nlines %s', 'here')")


def test_log_format_json_writes_one_object_per_line_from_a_fresh_process() -> None:
    result = _python(LOG_SOMETHING, LOG_FORMAT="json")
    assert result.returncode == 0, result.stderr
    (line,) = result.stderr.splitlines()
    record = json.loads(line)
    assert record["message"] == "two\nlines here" and record["level"] == "WARNING"
    assert KEYS <= set(record)


def test_text_is_the_development_default_and_an_unknown_format_is_refused() -> None:
    result = _python(LOG_SOMETHING)
    assert result.returncode == 0, result.stderr
    assert " WARNING notifyme.probe two" in result.stderr
    refused = _python(LOG_SOMETHING, LOG_FORMAT="xml")
    assert refused.returncode != 0 and "LOG_FORMAT must be json or text" in refused.stderr


def test_gunicorn_writes_json_access_lines_with_the_apps_request_id(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """gunicorn's logger (as gunicorn.conf.py configures it) in production format."""
    monkeypatch.setenv("LOG_FORMAT", "json")
    cfg = _gunicorn_config()
    log_file = tmp_path / "access.log"
    cfg.set("accesslog", str(log_file))
    logger = cfg.logger_class(cfg)
    resp, req, environ = _gunicorn_request(f"/proxy/unsubscribe?token={TOKEN}")
    resp.headers.append(("X-Request-ID", "lb-7f3a9c2e-0002"))
    logger.access(resp, req, environ, datetime.timedelta(seconds=1))
    for handler in logger.access_log.handlers:
        handler.flush()
    (line,) = log_file.read_text().splitlines()
    record = json.loads(line)
    assert record["request_id"] == "lb-7f3a9c2e-0002" and record["logger"] == "gunicorn.access"
    assert '"GET /proxy/unsubscribe?token=[redacted]' in record["message"]
    assert TOKEN not in line


def test_a_real_rqworker_process_writes_only_json_lines_with_job_ids() -> None:
    """`manage.py rqworker --burst` (what production runs) under LOG_FORMAT=json: every line it
    prints, rq's own included, is one JSON object; the job's lines name the job and its shop."""
    queue = django_rq.get_queue("default", commit_mode="auto")
    job = queue.enqueue(log_inside_a_job, "worker-shop.myshopify.com")
    clean = {k: v for k, v in os.environ.items() if k not in {"LOG_FORMAT", "DEBUG"}}
    result = subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
        [sys.executable, "manage.py", "rqworker", "default", "--burst"], cwd=ROOT,
        env={**clean, "DEBUG": "1", "LOG_FORMAT": "json"}, capture_output=True, text=True,
        timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in (result.stdout + result.stderr).splitlines() if line]
    (probe,) = [r for r in lines if r["message"] == "probe job for worker-shop.myshopify.com"]
    assert probe["job_id"] == job.id and probe["shop"] == "worker-shop.myshopify.com"
    assert {r["logger"] for r in lines} >= {"rq.worker", "notifyme.jobs.probe"}
    assert job.get_status(refresh=True) == JobStatus.FINISHED
