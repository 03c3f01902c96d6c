"""A nasty corpus of citation records: every piece type and everything that breaks exports.

LaTeX specials and ``<script>`` in titles, Vietnamese and transliterated Arabic names,
a corporate author with "and" in its name, two pieces by one author in one year, year-only
dates, no URL, no authors, acronyms and proper nouns, editors on a chapter.
"""

from __future__ import annotations

from library.citations.records import CitationRecord, Name

BASIT = Name(family="Basit", given="Abdul")
CNTS = Name(
    family="Centre for Non-Traditional Security Studies and Humanitarian Affairs",
    is_organisation=True,
)
NGUYEN = Name(family="Nguyễn", given="Thị Minh")
HASAN = Name(family="Ḥasan", given="ʿAbd al-Raḥmān")
RAHMAN = Name(family="Raḥmān", particle="al-", given="Ḥasan")
WAEVER = Name(family="Wæver", given="Ole")
ZOE = Name(family="Marks", given="Zoë")
CREVELD = Name(family="Creveld", particle="van", given="Martin")
KING = Name(family="King", given="Martin Luther", suffix="Jr.")

SPECIALS_TITLE = r"Costs & Benefits: 100% of $5 # _ {braces} ~ ^ \ and <script>alert(1)</script>"

NASTY: tuple[CitationRecord, ...] = (
    CitationRecord(
        key="basit2016mosul",
        type="commentary",
        title="Mosul Operation",
        subtitle="The Endgame for IS?",
        authors=(BASIT,),
        year=2016,
        month=10,
        day=28,
        publisher="S. Rajaratnam School of International Studies",
        place="Singapore",
        series="RSIS Commentaries",
        number="263/2016",
        url="https://www.rsis.edu.sg/wp-content/uploads/2016/10/CO16263.pdf",
        accessed="2024-01-15",
        abstract="The loss of Mosul will be a huge setback for the self-proclaimed IS group.",
        keywords=("Islamic State", "Iraq", "counter-terrorism"),
    ),
    CitationRecord(
        key="basit2016mosula",
        type="commentary",
        title="After Mosul: ASEAN, COVID-19 and the CT Agenda in Iraq",
        authors=(BASIT,),
        year=2016,
        month=12,
        publisher="S. Rajaratnam School of International Studies",
        place="Singapore",
        series="RSIS Commentaries",
        number="301/2016",
        url="https://www.rsis.edu.sg/rsis-publication/icpvtr/co16301/?a=1&b=2%20c#top",
    ),
    CitationRecord(
        key="waever2011specials",
        type="article",
        title=SPECIALS_TITLE,
        authors=(WAEVER, ZOE),
        year=2011,
        month=8,
        container_title="Security Dialogue",
        volume="42",
        issue="4–5",
        pages="465–480",
        doi="10.1177/0967010611418718",
        url="https://doi.org/10.1177/0967010611418718",
        abstract="Abstract with & and % and <b>markup</b>.",
    ),
    CitationRecord(
        key="cntsnguyen2019haze",
        type="report",
        title="Haze, Health and Human Security in Southeast Asia",
        authors=(CNTS, NGUYEN),
        year=2019,
        month=3,
        publisher="Centre for Non-Traditional Security Studies",
        place="Singapore",
        series="NTS Reports",
        number="7",
        note="Prepared for the 10% & $5 workshop; annex_B {draft} ~ Nguyễn",
    ),
    CitationRecord(
        key="hasan2020yemen",
        type="policy_brief",
        title="Ḥūthī Drones and Red Sea Shipping",
        authors=(HASAN,),
        year=2020,
        publisher="Sanaʿa Center for Strategic Studies",
        place="Sanaʿa",
        series="Policy Briefs",
        number="12",
        url="https://sanaacenter.org/publications/analysis/12_brief",
    ),
    CitationRecord(
        key="creveld1991transformation",
        type="book",
        title="The Transformation of War",
        authors=(CREVELD,),
        year=1991,
        publisher="Free Press",
        place="New York",
        edition="2",
        language="en",
    ),
    CitationRecord(
        key="rahman2018jihadism",
        type="chapter",
        title="Jihadism in the Gulf after the iPhone: McCain's Warnings Revisited",
        authors=(RAHMAN,),
        editors=(KING, NGUYEN),
        year=2018,
        container_title="The Oxford Handbook of Terrorism",
        publisher="Oxford University Press",
        place="Oxford",
        pages="45-67",
    ),
    CitationRecord(
        key="anon2021diplomat",
        type="web_article",
        title="Whither the Quad? The Indo-Pacific in 2021",
        year=2021,
        month=2,
        day=3,
        container_title="The Diplomat",
        url="https://thediplomat.com/2021/02/whither_the-quad/?utm=a%20b&x=~y#section-2",
        accessed="2021-02-04",
    ),
    CitationRecord(
        key="nguyen2015maritime",
        type="thesis",
        title="Maritime Disputes in the South China Sea",
        subtitle="Việt Nam's Strategy",
        authors=(NGUYEN,),
        year=2015,
        publisher="Nanyang Technological University",
        place="Singapore",
    ),
    CitationRecord(
        key="marks2017masters",
        type="thesis",
        title="Boko Haram and the State",
        authors=(ZOE,),
        year=2017,
        publisher="University of Oxford",
        note="Master's thesis",
    ),
    CitationRecord(
        key="anonndleaflet",
        type="other",
        title="Leaflet on Civil Defence",
    ),
    CitationRecord(
        key="cnts2022annual",
        type="report",
        title="Annual Report 2022",
        authors=(CNTS,),
        year=2022,
        publisher="Centre for Non-Traditional Security Studies and Humanitarian Affairs",
        place="Singapore",
    ),
)
