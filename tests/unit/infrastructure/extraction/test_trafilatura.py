import pytest

from application.ports import Extracted, ExtractionFailed
from infrastructure.extraction.trafilatura import TrafilaturaExtractor
from tests.support import corpus

pytestmark = pytest.mark.unit

ARTICLE = [
    "Les pêcheurs de la baie ont ramené hier une prise exceptionnelle de sardines argentées.",
    "Selon la coopérative, la saison dépasse de loin tout ce que le port a connu depuis dix ans.",
    "Le maire a salué le travail des équipages et promis de rénover le quai avant l'hiver.",
    "Les habitants se sont rassemblés sur la jetée pour accueillir les bateaux au soir.",
]
PAGE = f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8">
<title>Une pêche miraculeuse - Le Journal du Port</title>
</head><body>
<header><div class="logo">Le Journal du Port</div></header>
<nav><ul><li><a href="/">Accueil</a></li><li><a href="/sports">Rubrique sportive locale</a></li>
<li><a href="/meteo">Prévisions météo marines</a></li></ul></nav>
<main><article><h1>Une pêche miraculeuse</h1>
{"".join(f"<p>{sentence}</p>" for sentence in ARTICLE)}
</article>
<section id="comments" class="comments"><h2>Commentaires</h2>
<div class="comment"><p>Jean-Michel a écrit : quelle honte, les prix vont baisser.</p></div>
</section></main>
<footer><p>Mentions légales et politique de confidentialité du groupe de presse</p></footer>
</body></html>"""


def extract(body: bytes, content_type: str = "text/html; charset=utf-8") -> Extracted:
    return TrafilaturaExtractor().extract(
        body, url="https://example.org/a", content_type=content_type
    )


def test_keeps_the_article_and_drops_navigation_footer_and_comments() -> None:
    result = extract(PAGE.encode())

    assert all(sentence in result.text for sentence in ARTICLE)
    for boilerplate in ("Rubrique sportive", "météo marines", "Mentions légales", "quelle honte"):
        assert boilerplate not in result.text


def test_keeps_the_title_and_the_language_the_page_states() -> None:
    result = extract(PAGE.encode())

    assert result.title is not None and "Une pêche miraculeuse" in result.title
    assert result.language == "fr"


def test_a_short_page_with_real_text_is_kept() -> None:
    body = b"<html><body><nav><a href='/'>Home</a></nav><p>Back on Monday, sorry!</p></body></html>"

    assert extract(body).text == "Back on Monday, sorry!"


def test_words_are_counted_by_spaces_and_cjk_by_character() -> None:
    body = "It's a well-known fact.\n人工智能".encode()

    assert extract(body, "text/plain").word_count == 4 + 4


def test_plain_text_passes_through_with_whitespace_normalized() -> None:
    body = b"  First   line\tof text.\r\n\r\n\r\n\r\nSecond paragraph.  \n"

    result = extract(body, "text/plain; charset=utf-8")

    assert result == Extracted("First line of text.\n\nSecond paragraph.", None, None, 6)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html><body></body></html>",
        b"<html><body><nav><a href='/'>Home</a></nav></body></html>",
        PAGE.replace(PAGE[PAGE.index("<main>") : PAGE.index("</main>") + 7], "").encode(),
    ],
    ids=["empty", "empty body", "nav only", "header nav and footer only"],
)
def test_a_page_with_no_main_text_fails(body: bytes) -> None:
    with pytest.raises(ExtractionFailed):
        extract(body)


def test_blank_plain_text_fails() -> None:
    with pytest.raises(ExtractionFailed):
        extract(b" \n\t ", "text/plain")


def test_windows_1252_declared_in_the_content_type_is_decoded() -> None:
    body = PAGE.replace('<meta charset="utf-8">', "").encode("cp1252")

    result = extract(body, "text/html; charset=windows-1252")

    assert ARTICLE[0] in result.text  # "pêcheurs", not "p\ufffdcheurs" or "pÃªcheurs"


def test_valid_utf8_wins_over_a_stale_legacy_charset() -> None:
    body = PAGE.replace('charset="utf-8"', 'charset="iso-8859-1"').encode()

    assert ARTICLE[1] in extract(body, "text/html").text


def test_the_same_bytes_give_the_same_result() -> None:
    assert extract(PAGE.encode()) == extract(PAGE.encode())


@pytest.mark.parametrize(
    ("name", "sentence"),
    [
        ("lemonde-1", "Il sera désormais examiné par le Sénat, puis le Conseil constitutionnel"),
        ("ars-1", "The vulnerability stems from the fact that the client is allowed to send"),
        # stored as UTF-8 though its <meta> still says gb2312
        ("qq", "DeepMind开发出一款能够用自己的记忆学习新知识并利用这些知识来回答问题的计算机。"),
    ],
)
def test_real_pages_give_their_article_text(name: str, sentence: str) -> None:
    reference = corpus.corpus_file(
        f"reference/readability-expected/{name}.expected.html"
    ).read_text()
    assert sentence in reference  # the sentence is the reference's, not ours

    page = corpus.corpus_file(f"html/readability/{name}.html")
    result = extract(page.read_bytes(), "text/html")

    assert sentence in result.text
    assert result.word_count > 200
