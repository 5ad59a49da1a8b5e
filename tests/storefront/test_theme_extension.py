"""The theme app extension: Shopify's layout, a valid block schema, and the size budget."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders

EXTENSION = Path(settings.BASE_DIR) / "extensions" / "notifyme-theme"
BLOCK = EXTENSION / "blocks" / "notify-me.liquid"
JS = EXTENSION / "assets" / "notify-me.js"
CSS = EXTENSION / "assets" / "notify-me.css"
BUDGET_BYTES = 10 * 1024


def _schema() -> dict:
    match = re.search(r"{%-?\s*schema\s*-?%}(.*?){%-?\s*endschema\s*-?%}", BLOCK.read_text(),
                      re.DOTALL)
    assert match, "the block has no {% schema %}"
    return json.loads(match.group(1))


def test_extension_is_laid_out_as_a_shopify_theme_app_extension() -> None:
    config = tomllib.loads((EXTENSION / "shopify.extension.toml").read_text())
    assert config["type"] == "theme"
    for path in ("blocks/notify-me.liquid", "assets/notify-me.js", "assets/notify-me.css",
                 "locales/en.default.json"):
        assert (EXTENSION / path).is_file(), path
    # Shopify only accepts these top-level folders in a theme app extension.
    allowed = {"assets", "blocks", "locales", "snippets", "shopify.extension.toml"}
    assert {item.name for item in EXTENSION.iterdir()} <= allowed


def test_block_schema_is_an_app_block_for_product_pages_with_its_settings() -> None:
    schema = _schema()
    assert schema["target"] == "section"
    assert schema["enabled_on"] == {"templates": ["product"]}
    assert schema["javascript"] == "notify-me.js"
    assert schema["stylesheet"] == "notify-me.css"
    settings_by_id = {item["id"]: item for item in schema["settings"]}
    assert settings_by_id["product"]["type"] == "product"
    assert settings_by_id["product"]["autofill"] is True
    assert settings_by_id["button_label"]["default"] == "Notify me when available"
    assert settings_by_id["consent_text"]["default"]
    assert settings_by_id["consent_text_version"]["default"]
    assert settings_by_id["proxy_path"]["default"] == "/apps/notifyme"
    assert settings_by_id["show_phone"]["type"] == "checkbox"
    assert "by email" in settings_by_id["consent_text"]["default"]
    sms = settings_by_id["sms_consent_text"]["default"]
    for disclosure in ("Message frequency varies", "Msg & data rates may apply",
                       "Reply STOP to cancel", "HELP for help",
                       "Consent is not a condition of purchase"):
        assert disclosure in sms, disclosure
    assert settings_by_id["sms_consent_text_version"]["default"]
    assert (settings_by_id["sms_consent_text_version"]["default"]
            != settings_by_id["consent_text_version"]["default"])


def test_block_renders_the_variant_map_and_data_attributes_the_script_reads() -> None:
    liquid = BLOCK.read_text()
    script = JS.read_text()
    for key in ("id", "title", "available", "inventory_management", "inventory_policy"):
        assert f'"{key}": {{{{ v.{key} | json }}}}' in liquid, key
    assert '<script type="application/json">' in liquid
    assert "selected_or_first_available_variant.id" in liquid
    for attribute, dataset_key in (("data-proxy-path", "proxyPath"),
                                   ("data-consent-version", "consentVersion"),
                                   ("data-sms-consent-version", "smsConsentVersion"),
                                   ("data-show-phone", "showPhone")):
        assert attribute in liquid
        assert f"ds.{dataset_key}" in script
    assert "data-notifyme" in liquid and "[data-notifyme]" in script


def test_every_translated_string_exists_in_the_locale_file() -> None:
    strings = json.loads((EXTENSION / "locales" / "en.default.json").read_text())["notifyme"]
    used = set(re.findall(r"'notifyme\.([a-z_]+)' \| t", BLOCK.read_text()))
    assert used, "the block translates nothing"
    assert used <= strings.keys()
    assert (EXTENSION / "locales" / "en.default.json").stat().st_size < 15 * 1024


def test_script_and_stylesheet_stay_well_under_10_kb_together() -> None:
    size = JS.stat().st_size + CSS.stat().st_size
    assert size < BUDGET_BYTES, f"notify-me.js + notify-me.css = {size} bytes"


def test_script_has_no_dependencies_and_no_build_step() -> None:
    script = JS.read_text()
    assert not re.search(r"^\s*(import|export)\s", script, re.MULTILINE)
    assert "require(" not in script
    assert "fetch(" in script and "Accept: 'application/json'" in script


def test_demo_storefront_serves_the_very_same_files() -> None:
    assert Path(finders.find("notifyme-theme/notify-me.js")) == JS
    assert Path(finders.find("notifyme-theme/notify-me.css")) == CSS


def test_demo_page_renders_the_same_config_keys_as_the_liquid_block(db) -> None:
    """The demo stands in for the Liquid: same top-level keys, variant keys and texts."""
    from notifyme.dev.demo import demo_load
    from notifyme.dev.theme_block import block_context

    liquid = BLOCK.read_text()
    config_json = liquid.split('<script type="application/json">', 1)[1].split("</script>")[0]
    strings_part = config_json.split('"strings": {', 1)[1]
    liquid_strings = set(re.findall(r'"([a-z_]+)":', strings_part))
    liquid_top = set(re.findall(r'^\s{8}"([a-z_]+)":', config_json, re.MULTILINE))
    liquid_variant = set(re.findall(r'"([a-z_]+)": {{ v\.', config_json))

    variants = demo_load().variants[:3]
    demo = block_context(variants[0].product, variants, variants[0], proxy_path="/p")["config"]
    assert liquid_top == set(demo)
    assert liquid_strings == set(demo["strings"])
    assert liquid_variant == set(demo["variants"][0])
