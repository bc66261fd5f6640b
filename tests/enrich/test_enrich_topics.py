"""Topic matching: word edges, inflections, Persian and Turkish keywords, the user's own file."""

from __future__ import annotations

from pathlib import Path

import pytest

from cxbot.enrich.keywords import english_forms
from cxbot.enrich.textnorm import fold
from cxbot.enrich.topics import Taxonomy
from cxbot.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
TOPICS = ROOT / "config" / "topics.toml"


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return Taxonomy.from_files(TOPICS)


def topics(taxonomy: Taxonomy, text: str) -> list[str]:
    return taxonomy.topics(fold(text))


def test_default_taxonomy_names(taxonomy: Taxonomy) -> None:
    assert taxonomy.topic_names == (
        "account_access",
        "billing",
        "bug_crash",
        "cancellation",
        "delivery",
        "performance",
        "praise",
        "pricing",
        "product_quality",
        "refund",
        "support_experience",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("They refunded me", ["refund"]),
        ("Refunds take ages", ["refund"]),
        ("still refunding?", ["refund"]),
        ("a prefund account", []),
        ("refundable deposit", []),
        ("My charger is great", []),  # "charge" must not match "charger"
        ("They charged me twice", ["billing"]),
        ("the item shipped late", ["delivery"]),
        ("I logged in fine", ["account_access"]),
        ("can't login", ["account_access"]),
        ("two-factor code never came", ["account_access"]),
        ("Cancelled my plan", ["cancellation"]),
        ("support replied quickly", ["support_experience"]),
        ("the app crashed twice", ["bug_crash"]),
        ("Kudos to the team", ["praise"]),
    ],
)
def test_english_word_edges_and_inflections(
    taxonomy: Taxonomy, text: str, expected: list[str]
) -> None:
    assert topics(taxonomy, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("سفارشم هنوز نرسیده", ["delivery"]),
        ("پولم رو برگردونید", ["refund"]),
        ("رمز عبور رو عوض کردم ولی باز نمیشه", ["account_access", "bug_crash"]),
        ("قیمت‌ها خیلی گرونه", ["pricing"]),  # zero-width non-joiner before the plural
        ("كيفيت خيلي بد بود", ["product_quality"]),  # typed on an Arabic keyboard (ي ك)
        ("پشتیبانی جواب نمیده", ["support_experience"]),
        ("اشتراکم رو لغو کنید", ["cancellation"]),
        ("خیلی ممنون، عالی بود", ["praise"]),
    ],
)
def test_persian_keywords(taxonomy: Taxonomy, text: str, expected: list[str]) -> None:
    assert topics(taxonomy, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("İADEMİ ne zaman alacağım", ["refund"]),
        ("iadesi yapılmadı", ["refund"]),
        ("kargom hala gelmedi", ["delivery"]),
        ("siparisim nerede", ["delivery"]),  # typed without Turkish letters
        ("faturamda yanlış ücret var", ["billing"]),
        ("şifremi unuttum", ["account_access"]),
        ("uygulama sürekli çöküyor", ["bug_crash"]),
        ("fiyatlar çok pahalı", ["pricing"]),
        ("aboneliğimi iptal edin", ["cancellation"]),
        ("ürün kırık geldi", ["product_quality"]),
        ("çok teşekkürler, harika", ["praise"]),
        ("davranışınız", []),  # "dava" (lawsuit) is not a prefix of this word's stem
    ],
)
def test_turkish_keywords(taxonomy: Taxonomy, text: str, expected: list[str]) -> None:
    assert topics(taxonomy, text) == expected


def test_english_forms() -> None:
    assert english_forms("ship") >= {"ship", "ships", "shipped", "shipping"}
    assert english_forms("reply") >= {"replies", "replied", "replying"}
    assert english_forms("charge") >= {"charges", "charged", "charging"}
    assert "charger" not in english_forms("charge")
    assert english_forms("404") == {"404"}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_extra_file_extends_replaces_removes_and_adds(tmp_path: Path) -> None:
    extra = write(
        tmp_path,
        "mine.toml",
        """
[topics.refund]
en = ["store voucher"]

[topics.pricing]
replace = true
en = ["tariff"]

[topics.praise]
enabled = false

[topics.loyalty]
description = "Points and rewards"
en = ["loyalty points", "reward*"]
tr = ["puan"]

[urgency.press]
level = 3
en = ["journalist"]
""",
    )
    tx = Taxonomy.from_files(TOPICS, extra)
    assert [
        tx.topics(fold(t))
        for t in [
            "a store voucher instead",
            "my refund",
            "the tariff changed",
            "the price changed",
            "thanks a lot",
            "where are my loyalty points",
            "rewards program",
            "puanlarım silindi",
        ]
    ] == [
        ["refund"],
        ["refund"],
        ["pricing"],
        [],
        [],
        ["loyalty"],
        ["loyalty"],
        ["loyalty"],
    ]
    assert "praise" not in tx.topic_names
    assert tx.urgency(fold("I'm talking to a journalist")) == 3


def test_regex_keywords(tmp_path: Path) -> None:
    extra = write(
        tmp_path,
        "mine.toml",
        r"""
[topics.order_numbers]
en = ['re:(?<!\w)ord-\d{5}(?!\w)']
""",
    )
    tx = Taxonomy.from_files(TOPICS, extra)
    assert [tx.topics(fold(t)) for t in ["about ORD-12345 please", "ord-123"]] == [
        ["order_numbers"],
        [],
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[topics.x]\nen = 'refund'\n", "en must be a list of strings"),
        ("[topics.x]\nweight = 2\n", "unknown key 'weight'"),
        ("[topics.Bad-Name]\nen = ['a']\n", "names are lower-case"),
        ("[urgency.x]\nen = ['a']\n", "needs a level"),
        ("[urgency.x]\nlevel = 4\nen = ['a']\n", "level must be 1, 2 or 3"),
        ("[topics.x]\nen = ['re:(']\n", "bad keyword 're:('"),
        ("[topics.x]\nen = ['!!!']\n", "bad keyword '!!!'"),
        ("[things.x]\nen = ['a']\n", "unknown tables"),
        ("[topics.x\n", "cannot read taxonomy"),
    ],
)
def test_bad_files_raise_config_error_naming_the_file(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, "bad.toml", text)
    with pytest.raises(ConfigError) as err:
        Taxonomy.from_files(TOPICS, path)
    assert (str(path) in str(err.value), message in str(err.value)) == (True, True)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="taxonomy file not found"):
        Taxonomy.from_files(tmp_path / "nope.toml")
