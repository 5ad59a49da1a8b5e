"""The theme app extension: Shopify's layout, a valid block schema, its locales, the size budget."""

from __future__ import annotations

import gzip
import json
import re
import tomllib
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders

EXTENSION = Path(settings.BASE_DIR) / "extensions" / "notifyme-theme"
BLOCK = EXTENSION / "blocks" / "notify-me.liquid"
JS = EXTENSION / "assets" / "notify-me.js"
HINT_JS = EXTENSION / "assets" / "email-hint.js"
CSS = EXTENSION / "assets" / "notify-me.css"
LOCALES = EXTENSION / "locales"
LANGUAGES = ("en.default", "fr", "de", "es")
# Shopify's budget for an app block's JavaScript: 10 KB compressed (schema reference); its
# linter (AssetSizeAppBlockJavaScript, see test_theme_check.py) also caps the file at 10,000 B.
JS_GZIP_BUDGET_BYTES = 10 * 1024
CSS_GZIP_BUDGET_BYTES = 100 * 1024
LOCALE_FILE_MAX_BYTES = 15 * 1024  # Shopify's limit per locale file


def _schema() -> dict:
    match = re.search(r"{%-?\s*schema\s*-?%}(.*?){%-?\s*endschema\s*-?%}", BLOCK.read_text(),
                      re.DOTALL)
    assert match, "the block has no {% schema %}"
    return json.loads(match.group(1))


def _keys(tree: dict, prefix: str = "") -> set[str]:
    """Dotted paths of every leaf: {"a": {"b": "x"}} -> {"a.b"}."""
    keys: set[str] = set()
    for key, value in tree.items():
        path = f"{prefix}{key}"
        keys |= _keys(value, path + ".") if isinstance(value, dict) else {path}
    return keys


def _locale(name: str) -> dict:
    return json.loads((LOCALES / f"{name}.json").read_text())


def test_extension_is_laid_out_as_a_shopify_theme_app_extension() -> None:
    config = tomllib.loads((EXTENSION / "shopify.extension.toml").read_text())
    assert config["type"] == "theme"
    locales = [f"locales/{name}.json" for name in LANGUAGES]
    locales += [f"locales/{name}.schema.json" for name in LANGUAGES]
    for path in ("blocks/notify-me.liquid", "assets/notify-me.js", "assets/notify-me.css",
                 *locales):
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
    settings_by_id = {item["id"]: item for item in schema["settings"] if "id" in item}
    assert settings_by_id["product"]["type"] == "product"
    assert settings_by_id["product"]["autofill"] is True
    # The merchant's overrides: no default, so an untouched block shows the translation.
    for text in ("button_label", "heading", "intro", "consent_text", "sms_consent_text"):
        assert settings_by_id[text]["type"] in {"text", "textarea"}, text
        assert "default" not in settings_by_id[text], text
    for switch in ("ask_marketing_consent", "ask_sms_consent", "show_phone"):
        assert settings_by_id[switch] | {"id": None, "label": None, "info": None} == {
            "type": "checkbox", "id": None, "label": None, "info": None, "default": True}
    assert settings_by_id["consent_text_version"]["default"]
    assert settings_by_id["proxy_path"]["default"] == "/apps/notifyme"
    assert settings_by_id["sms_consent_text_version"]["default"]
    assert (settings_by_id["sms_consent_text_version"]["default"]
            != settings_by_id["consent_text_version"]["default"])
    # Every label the theme editor shows is translated (t: keys into locales/*.schema.json).
    assert schema["name"].startswith("t:")
    for item in schema["settings"]:
        for field in ("label", "info", "content"):
            if field in item:
                assert item[field].startswith("t:"), (item.get("id"), field)


def test_default_texts_carry_the_consent_wording_in_every_language() -> None:
    english = _locale("en.default")["notifyme"]
    assert english["button"] == "Notify me when available"
    assert "by email" in english["consent"]
    for disclosure in ("Message frequency varies", "Msg & data rates may apply",
                       "Reply STOP to cancel", "HELP for help",
                       "Consent is not a condition of purchase"):
        assert disclosure in english["sms_consent"], disclosure
    for name in LANGUAGES:
        strings = _locale(name)["notifyme"]
        # The carriers' keywords stay as they are in every language.
        assert "STOP" in strings["sms_consent"] and "HELP" in strings["sms_consent"], name
        assert "{item}" in strings["subscribed"] and "{item}" in strings["already_subscribed"]
        assert "{s}" in strings["error_rate"], name
        if name != "en.default":
            assert strings["button"] != english["button"], f"{name} is not translated"


def test_block_renders_the_variant_map_and_data_attributes_the_script_reads() -> None:
    liquid = BLOCK.read_text()
    script = JS.read_text()
    for key in ("id", "title", "available", "inventory_management", "inventory_policy"):
        assert f'"{key}": {{{{ v.{key} | json }}}}' in liquid, key
    # Prices in the market's currency and the shop's money format, formatted by Shopify.
    assert '"price": {{ v.price | money | json }}' in liquid
    assert '"locale": {{ request.locale.iso_code | json }}' in liquid
    assert "routes.root_url | append: proxy_path" in liquid
    assert '<script type="application/json">' in liquid
    assert "selected_or_first_available_variant.id" in liquid
    for attribute, dataset_key in (("data-proxy-path", "proxyPath"),
                                   ("data-consent-version", "consentVersion"),
                                   ("data-sms-consent-version", "smsConsentVersion"),
                                   ("data-show-phone", "showPhone")):
        assert attribute in liquid
        assert f"ds.{dataset_key}" in script
    assert "data-notifyme" in liquid and "[data-notifyme]" in script


def test_every_locale_has_every_key_and_every_used_key_exists() -> None:
    storefront = {name: _keys(_locale(name)) for name in LANGUAGES}
    schema = {name: _keys(_locale(f"{name}.schema")) for name in LANGUAGES}
    for name in LANGUAGES:
        assert storefront[name] == storefront["en.default"], (
            name, storefront[name] ^ storefront["en.default"])
        assert schema[name] == schema["en.default"], (name, schema[name] ^ schema["en.default"])
        for file in (f"{name}.json", f"{name}.schema.json"):
            assert (LOCALES / file).stat().st_size < LOCALE_FILE_MAX_BYTES, file
    liquid = BLOCK.read_text()
    used = set(re.findall(r"'(notifyme\.[a-z_]+)' \| t", liquid))
    assert used, "the block translates nothing"
    assert used <= storefront["en.default"]
    used_schema = set(re.findall(r'"t:([a-z_.]+)"', liquid))
    assert used_schema, "the schema translates nothing"
    assert used_schema <= schema["en.default"], used_schema - schema["en.default"]
    # Nothing in the locale files that the block never uses.
    assert storefront["en.default"] <= used
    assert schema["en.default"] == used_schema, schema["en.default"] ^ used_schema


def test_script_stays_under_10_kb_compressed() -> None:
    scripts = sorted((EXTENSION / "assets").glob("*.js"))
    assert scripts == [HINT_JS, JS]  # the block's script and its email hint (email-hint.js)
    for script in scripts:
        size = len(gzip.compress(script.read_bytes(), compresslevel=9))
        assert size <= JS_GZIP_BUDGET_BYTES, f"{script.name}: {size} bytes gzipped"
    css = len(gzip.compress(CSS.read_bytes(), compresslevel=9))
    assert css <= CSS_GZIP_BUDGET_BYTES, f"{CSS.name}: {css} bytes gzipped"


def test_script_has_no_dependencies_and_no_build_step() -> None:
    script = JS.read_text()
    assert not re.search(r"^\s*(import|export)\s", script, re.MULTILINE)
    assert "require(" not in script
    assert "fetch(" in script and "Accept: 'application/json'" in script


def test_demo_storefront_serves_the_very_same_files() -> None:
    assert Path(finders.find("notifyme-theme/notify-me.js")) == JS
    assert Path(finders.find("notifyme-theme/notify-me.css")) == CSS
