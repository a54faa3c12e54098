"""Models, providers and prices are checked when the specs load: a paid model without a
price stops start-up naming the prices file; a local model declares `price = 0`."""
from __future__ import annotations

import pytest

from service.budget import PRICES_FILE, cost_usd, listed_price, most_cost_usd, prices_checked
from service.config import load_feed_specs
from service.errors import ConfigError
from service.models import Price
from service.pipeline import make_digest

GOOD = 'title = "T"\ncategories = ["cs.CV"]\n'


def _load(tmp_path, text: str):
    (tmp_path / "vision.toml").write_text(GOOD + text)
    return load_feed_specs(tmp_path)["vision"]


@pytest.mark.parametrize("text", [
    'provider = "openai"\nmodel = "gpt-5-turbo-imaginary"\n',
    'model = "claude-haiku-9"\n',
    'provider = "openai"\nmodel = "deepseek-chat"\nbase_url = "https://api.deepseek.com"\n',
])
def test_unknown_paid_model_stops_start_up_naming_the_prices_file(tmp_path, text):
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, text)
    message = str(err.value)
    assert message.startswith(str(tmp_path / "vision.toml")) and "key 'model'" in message
    assert PRICES_FILE in message and "price = 0" in message


def test_make_digest_refuses_an_unpriced_model(env, feeds_dir):
    spec = feeds_dir / "cs-cv.toml"
    spec.write_text(spec.read_text().replace('model = "claude-haiku-4-5"', 'model = "gpt-4o-mini-imaginary"'))
    with pytest.raises(ConfigError, match="prices.toml"):
        make_digest()


def test_local_model_declares_price_zero(tmp_path):
    spec = _load(tmp_path, 'provider = "openai"\nmodel = "qwen2.5:7b"\nbase_url = "http://localhost:11434/v1/"\n'
                           'price = 0\n')
    assert spec.price == Price(0.0, 0.0, 0.0, 0.0)
    assert spec.base_url == "http://localhost:11434/v1"  # one spelling per endpoint
    assert cost_usd(spec.price, 10_000, 5_000, 100, 1_000) == 0


def test_spec_price_table_prices_its_model(tmp_path):
    spec = _load(tmp_path, 'provider = "openai"\nmodel = "deepseek-chat"\nbase_url = "https://api.deepseek.com"\n'
                           'api_key_env = "DEEPSEEK_API_KEY"\nprice = { input = 0.28, output = 0.42, cache_read = 0.028 }\n')
    assert spec.price == Price(0.28, 0.42, None, 0.028)
    assert cost_usd(spec.price, 1_000_000, 1_000_000, cache_read=1_000_000) == pytest.approx(0.28 + 0.42 + 0.028)


@pytest.mark.parametrize("text, key, problem", [
    ('provider = "mistral"\n', "provider", "expected one of anthropic, openai, got 'mistral'"),
    ('provider = "openai"\n', "model", "missing (required with provider = 'openai')"),
    ('base_url = "localhost:11434"\n', "base_url", "expected an http(s) URL"),
    ('api_key_env = "DIGEST_ADMIN_TOKEN"\n', "api_key_env", "ending in _API_KEY"),
    ('price = 1.5\n', "price", "a single number must be 0"),
    ('price = true\n', "price", "got a boolean"),
    ('price = { input = 1 }\n', "price", "output missing"),
    ('price = { input = 1, output = -2 }\n', "price", "output must be a number of US dollars >= 0"),
    ('price = { input = 1, output = 2, batch = 1 }\n', "price", "unknown key 'batch'"),
])
def test_bad_provider_keys_name_the_problem(tmp_path, text, key, problem):
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, text)
    assert f"key '{key}'" in str(err.value) and problem in str(err.value)


def test_price_table_is_dated_and_prices_dated_ids_like_their_family():
    assert prices_checked() >= "2026-11-25"
    assert listed_price("gpt-4o-mini-2024-07-18") == listed_price("gpt-4o-mini")
    assert listed_price("gpt-4o-mini").input == 0.15  # not gpt-4o's, a shorter prefix
    assert listed_price("gpt-4o-mini-imaginary") is None  # only a date suffix is a family member
    # OpenAI bills cache reads at its own discount and no cache write premium
    assert cost_usd("gpt-4o-mini", 0, 0, cache_write=1_000_000, cache_read=1_000_000) == pytest.approx(0.15 + 0.075)


def test_most_cost_covers_a_repair_request_carrying_the_first_answer():
    one = most_cost_usd("gpt-4o-mini", 4000, 8192)
    two = most_cost_usd("gpt-4o-mini", 4000, 8192, calls=2)
    assert two == pytest.approx(2 * one + cost_usd("gpt-4o-mini", 8192, 0))
