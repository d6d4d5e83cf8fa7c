"""Settings: the shop's own settings file, the variables that override it, and the first
business day taken from the data."""

from datetime import date

import pytest

from dagster_project.core.settings import Settings


def shop_file(data_dir, text: str) -> None:
    (data_dir / "landing").mkdir(parents=True, exist_ok=True)
    (data_dir / "landing" / "_shop.yml").write_text(text, encoding="utf-8")


def test_without_a_shop_file_the_demo_shop_defaults_apply(isolated_data_dir, monkeypatch):
    for name in ("KPI_SHOP_NAME", "KPI_TIMEZONE", "KPI_CURRENCY", "KPI_FIRST_BUSINESS_DATE"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.from_env()
    assert (settings.shop_name, settings.timezone, settings.currency) == (
        "Demo shop",
        "Asia/Shanghai",
        "CNY",
    )
    assert settings.first_business_date == date(2024, 1, 1)  # an empty landing zone


def test_the_shop_file_configures_the_shop_and_variables_override_it(
    isolated_data_dir, monkeypatch
):
    for name in ("KPI_SHOP_NAME", "KPI_TIMEZONE", "KPI_CURRENCY"):
        monkeypatch.delenv(name, raising=False)
    shop_file(isolated_data_dir, "name: Loja\ntimezone: America/Sao_Paulo\ncurrency: BRL\n")
    settings = Settings.from_env()
    assert (settings.shop_name, settings.timezone, settings.currency) == (
        "Loja",
        "America/Sao_Paulo",
        "BRL",
    )
    monkeypatch.setenv("KPI_CURRENCY", "USD")
    assert Settings.from_env().currency == "USD"


def test_the_first_business_day_is_the_earliest_landing_day(isolated_data_dir, monkeypatch):
    monkeypatch.delenv("KPI_FIRST_BUSINESS_DATE", raising=False)
    landing = isolated_data_dir / "landing"
    for folder in ("orders/dt=2017-03-05", "customers/dt=2017-01-05", "_SUCCESS/dt=2016-12-31"):
        (landing / folder).mkdir(parents=True)
    assert Settings.from_env().first_business_date == date(2017, 1, 5)  # markers are not data
    monkeypatch.setenv("KPI_FIRST_BUSINESS_DATE", "2017-02-01")
    assert Settings.from_env().first_business_date == date(2017, 2, 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("timezone: Mars/Olympus\n", "unknown time zone 'Mars/Olympus'"),
        ("currency: reais\n", "currency must be an ISO 4217 code"),
        ("nme: Loja\n", "unknown key(s) nme"),
        ("- a list\n", "must hold a mapping"),
        ("name: [unclosed\n", "is not valid YAML at line 2"),
    ],
)
def test_a_bad_shop_file_is_one_clear_error(isolated_data_dir, monkeypatch, text, message):
    for name in ("KPI_TIMEZONE", "KPI_CURRENCY"):
        monkeypatch.delenv(name, raising=False)
    shop_file(isolated_data_dir, text)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")) as e:
        Settings.from_env()
    assert "\n" not in str(e.value)
