"""PDF and HTML files made on the fly for the extraction tests (fpdf2 and pypdf write the
PDFs; the HTML is written out as strings). Everything is deterministic: fixed dates, no
clock, so the same call always gives the same bytes."""

from __future__ import annotations

import datetime as dt
import io

from fpdf import FPDF
from PIL import Image, ImageDraw
from pypdf import PdfWriter

CREATED = dt.datetime(2023, 11, 7, 14, 30, tzinfo=dt.UTC)

# One list of paragraphs per page; every sentence occurs once in the whole document.
REPORT_PAGES = [
    [
        "Freedom of Assembly in Kazakhstan",
        "The law on peaceful assemblies requires organisers to notify the local akimat five working "
        "days in advance, and the akimat may propose another place or time for the event.",
        "Observers recorded that most requests to hold rallies in the city centre were refused in 2022.",
    ],
    [
        "Independent trade unions reported pressure on their members after the January events, "
        "including dismissals and repeated summonses for questioning by the police.",
        "Registration of a new union requires confirmation from a national federation within six months.",
    ],
    [
        "Journalists covering protests were detained for several hours and released without charge.",
        "The report recommends repealing the notification rules and decriminalising defamation.",
    ],
]


def pdf_bytes(
    pages: list[list[str]],
    *,
    title: str | None = None,
    author: str | None = None,
    created: dt.datetime | None = CREATED,
) -> bytes:
    """A PDF with one page per list of paragraphs, each paragraph wrapped by fpdf2 and
    followed by a blank line's worth of space; an empty list makes a blank page.
    ``created=None`` strips the document information (fpdf2 always writes a CreationDate)."""
    pdf = FPDF(format="A4")
    pdf.set_creation_date(created or CREATED)
    if title:
        pdf.set_title(title)
    if author:
        pdf.set_author(author)
    pdf.set_font("Helvetica", size=11)
    for paragraphs in pages:
        pdf.add_page()
        for paragraph in paragraphs:
            pdf.multi_cell(0, 5.5, paragraph)
            pdf.ln(5.5)
    data = bytes(pdf.output())
    return data if created else _rewrite(data, strip_metadata=True)


def scanned_pdf_bytes() -> bytes:
    """Two pages as a scanner makes them: an image of printed text, then a blank page."""
    image = Image.new("L", (600, 300), color=255)
    ImageDraw.Draw(image).text((20, 20), "This text is only pixels, not a text layer.", fill=0)
    pdf = FPDF()
    pdf.set_creation_date(CREATED)
    pdf.add_page()
    pdf.image(image, x=10, y=10, w=180)
    pdf.add_page()
    return bytes(pdf.output())


def encrypted_pdf_bytes(user_password: str = "") -> bytes:
    """REPORT_PAGES encrypted; with the default empty user password any viewer opens it."""
    return _rewrite(pdf_bytes(REPORT_PAGES), user_password=user_password)


def _rewrite(data: bytes, *, strip_metadata: bool = False, user_password: str | None = None) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(data))
    if strip_metadata:
        writer.metadata = None
    if user_password is not None:
        writer.encrypt(user_password=user_password, owner_password="owner-secret")  # RC4: AES would need `cryptography`
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


ARTICLE_PARAGRAPHS = [
    "The lower house of parliament adopted amendments on Wednesday that require organisers of any "
    "public gathering to notify local authorities ten days in advance, instead of five.",
    "Human rights groups said the change would make spontaneous protests effectively impossible, "
    "and that the list of permitted places in Almaty had shrunk to three remote parks.",
    "The amendments still need the approval of the Senate and the signature of the President "
    "before they enter into force later this year.",
]

BOILERPLATE = [
    "Economy section",
    "We use cookies to improve your browsing experience",
    "Sidebar link about football results",
    "Copyright 2024 Steppe Monitor Media Group",
    "Privacy policy",
]

ARTICLE_HTML = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Assembly law tightened | Steppe Monitor</title>
<meta property="og:title" content="Parliament tightens the law on peaceful assemblies">
<meta name="author" content="Aigerim Sadykova">
<meta property="article:published_time" content="2024-05-17T09:30:00+05:00">
<meta property="og:site_name" content="Steppe Monitor">
<link rel="canonical" href="https://steppe-monitor.example/news/assembly-law">
</head>
<body>
<header><nav><ul>
  <li><a href="/">Home</a></li><li><a href="/politics">Politics section</a></li>
  <li><a href="/economy">Economy section</a></li></ul></nav></header>
<div class="cookie-banner" id="cookie-consent">
  <p>We use cookies to improve your browsing experience. Accept all cookies?</p><button>Accept</button>
</div>
<main><article>
<h1>Parliament tightens the law on peaceful assemblies</h1>
<p>{ARTICLE_PARAGRAPHS[0]}</p>
<p>{ARTICLE_PARAGRAPHS[1]}</p>
<p>{ARTICLE_PARAGRAPHS[2]}</p>
</article></main>
<aside class="sidebar"><h3>Most read</h3><ul>
  <li><a href="/a">Sidebar link about football results</a></li>
  <li><a href="/b">Sidebar link about the weather tomorrow</a></li></ul></aside>
<footer><p>Copyright 2024 Steppe Monitor Media Group. All rights reserved.</p>
  <a href="/privacy">Privacy policy</a></footer>
</body>
</html>
"""

# The same article with nothing that states a title, author, date, address, site or language.
BARE_HTML = (
    "<html><body><div>"
    + "".join(f"<p>{p}</p>" for p in ARTICLE_PARAGRAPHS)
    + "</div><footer><p>Copyright 2024 Steppe Monitor Media Group.</p></footer></body></html>"
)

# Navigation, a cookie banner, a sidebar and a footer, but no article.
NO_CONTENT_HTML = ARTICLE_HTML.split("<main>")[0] + ARTICLE_HTML.split("</main>")[1]

# A report with a running title and "Page N of 3" on every page, a paragraph that runs on
# over the first page break, labelled headings and an endnote list.
_LONG = ("Observers from four regional monitoring groups attended the hearings in person, took notes "
         "on every ruling and compared the court records with the statements of the defendants, their "
         "lawyers and the prosecutors, and published their findings in three languages at the end of "
         "each month. ")
RUNNING_PAGES = [
    [
        "Civic Monitor Quarterly Briefing",
        "Page 1 of 3",
        "Section 1. Assembly",
        "a. Notification rules",
        _LONG,
        "Organisers of a rally must notify the akimat ten working days in advance, and in the "
        "capital the akimat approved only three remote parks for gatherings of more than fifty",
    ],
    [
        "Civic Monitor Quarterly Briefing",
        "Page 2 of 3",
        "people, which observers said made spontaneous protest impossible.1 The notification rule "
        "was applied to single pickets as well, although the law names only assemblies, marches "
        "and rallies, and courts fined two residents of Almaty who stood alone with a poster.",
        "b. Detentions",
        "Police detained eleven activists before the March rally and released them without charge.2 "
        "Their lawyers were not allowed to see them for the first six hours of detention, and the "
        "police did not record the time of detention in two of the eleven cases.",
    ],
    [
        "Civic Monitor Quarterly Briefing",
        "Page 3 of 3",
        "Section 2. Association",
        "Registration of a public association took up to four months in the regions, where the "
        "justice departments returned applications for missing documents that the law does not "
        "require, and the applicants had to begin the procedure again from the start.",
        "1 Interview with an observer, Almaty, 12 March 2023.",
        "2 Statement of the Bureau for Human Rights, 14 March 2023.",
    ],
]

# A report page of an imaginary NGO site: its furniture has the shapes of every site (a
# header menu, share links, an in-page table of contents, a back-to-top link, a footer).
REPORT_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Assembly in Central Asia - Rights Watchers</title>
<meta property="og:title" content="Assembly in Central Asia - Rights Watchers">
<meta property="og:site_name" content="Rights Watchers">
<meta property="article:modified_time" content="2025-01-03T10:00:00+00:00">
<script type="application/ld+json">{"@graph": [{"@type": "WebPage", "name": "Assembly in Central Asia - Rights Watchers",
 "datePublished": "2024-02-01T09:00:00+00:00", "dateModified": "2025-01-03T10:00:00+00:00",
 "publisher": {"@id": "#org"}}, {"@type": "Organization", "@id": "#org", "name": "Rights Watchers e.V."}]}</script>
</head><body>
<header><ul><li><a href="/">Home</a></li><li><a href="/reports">Reports</a></li><li><a href="/about">About us</a></li></ul></header>
<article>
<h1>Annual Report 2023: Assembly in Central Asia</h1>
<div class="share-links"><a href="https://facebook.example/share">Facebook</a> <a href="mailto:?">Email this</a></div>
<ol><li><a href="#p1">Part 1. Assembly</a></li><li><a href="#p1a">a. Notification</a></li><li><a href="#p2">Part 2. Association</a></li></ol>
<section><h2 id="p1">Part 1.</h2><h2>Assembly</h2>
<section><h3 id="p1a">a. Notification</h3>
<p>Organisers must notify the authorities ten working days in advance,
   and rallies are allowed only in places the authorities list.</p>
<h3>Enforcement</h3>
<p>Police fined organisers of unnotified pickets;<br>courts upheld every fine that was appealed in 2023.</p>
<ul><li>Eleven activists were detained before the March rally.</li><li>Two journalists were fined for covering it.</li></ul>
</section></section>
<section><h2 id="p2">Part 2. Association</h2>
<p>Registration of a public association took up to four months in the regions, and longer in the capital.</p>
</section>
<div class="back-to-top"><a href="#top">Back to top</a></div>
</article>
<footer><p>Rights Watchers e.V., Berlin. <a href="/privacy">Privacy</a></p></footer>
</body></html>
"""
