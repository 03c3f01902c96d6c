"""The pieces-per-year chart: layout, links that filter by year, and its table."""

from __future__ import annotations

import datetime

from lxml import html

from library.catalogue.charts import MAX_YEARS, timeline


def test_missing_years_are_gaps_and_the_tallest_bar_fills_the_plot():
    chart = timeline([(2016, 4), (2013, 2), (2018, 1)], lambda y: f"/y/{y}")
    assert [(b.year, b.count) for b in chart.bars] == [
        (2013, 2),
        (2014, 0),
        (2015, 0),
        (2016, 4),
        (2017, 0),
        (2018, 1),
    ]
    tallest = next(b for b in chart.bars if b.year == 2016)
    assert tallest.y == 0
    assert tallest.height == chart.axis_y
    assert [b.year for b in chart.rows] == [2018, 2016, 2013]
    assert [(label.year, label.anchor) for label in chart.labels] == [
        (2013, "start"),
        (2018, "end"),
    ]


def test_nothing_to_draw_gives_no_chart_and_stray_years_are_bounded():
    assert timeline([], str) is None
    assert timeline([(None, 3)], str) is None
    chart = timeline([(1, 1), (2016, 1)], str)
    assert len(chart.bars) == MAX_YEARS


def bars(client, url: str) -> list[str]:
    tree = html.fromstring(client.get(url).content)
    return tree.xpath('//figure[@class="timeline"]//svg//a/@href')


def test_the_home_topic_author_and_search_pages_link_each_bar_to_its_year(client, make_piece):
    first = make_piece("Mosul one", date=datetime.date(2016, 5, 1), topics=("terrorism",))
    make_piece("Mosul two", date=datetime.date(2014, 5, 1), topics=("terrorism",))
    assert bars(client, "/") == ["/pieces/?year=2014", "/pieces/?year=2016"]
    assert bars(client, "/topics/terrorism/") == [
        "/pieces/?topic=terrorism&year=2014",
        "/pieces/?topic=terrorism&year=2016",
    ]
    slug = first.authors[0].slug
    assert bars(client, f"/authors/{slug}/")[0] == f"/pieces/?author={slug}&year=2014"
    assert bars(client, "/search/?q=mosul&sort=newest") == [
        "/search/?q=mosul+year%3A2014&sort=newest",
        "/search/?q=mosul+year%3A2016&sort=newest",
    ]


def test_the_chart_has_a_table_alternative_and_titles(client, make_piece):
    make_piece("One", date=datetime.date(2016, 5, 1))
    tree = html.fromstring(client.get("/").content)
    figure = tree.xpath('//figure[@class="timeline"]')[0]
    assert figure.xpath(".//svg/@aria-labelledby") == ["timeline-caption"]
    assert figure.xpath(".//rect/title/text()") == ["2016: 1 piece"]
    assert figure.xpath(".//table//td/a/text()") == ["2016"]
    assert "Pieces per year, 2016. Select" in figure.xpath("string(.//figcaption)")


def test_an_empty_catalogue_draws_no_chart(client, db):
    assert b'class="timeline"' not in client.get("/").content


def test_the_region_index_shades_each_country_with_pieces_by_count(
    client, make_piece, empty_vocabulary
):
    from library.catalogue.models import Region, RegionKind

    Region.objects.create(name="Iraq", slug="iraq", kind=RegionKind.COUNTRY, iso_code="IQ")
    Region.objects.create(name="Syria", slug="syria", kind=RegionKind.COUNTRY, iso_code="SY")
    Region.objects.create(name="Chad", slug="chad", kind=RegionKind.COUNTRY, iso_code="TD")
    for n in range(9):
        make_piece(f"Iraq {n}", regions=("iraq",))
    make_piece("Syria", regions=("syria",))
    tree = html.fromstring(client.get("/regions/").content)
    tiles = tree.xpath('//figure[@class="region-grid"]//li')
    assert [(t.get("class"), t.xpath("string(.//a/@aria-label)")) for t in tiles] == [
        ("shade-5", "Iraq, 9 pieces"),
        ("shade-2", "Syria, 1 piece"),
    ]
    assert tiles[0].xpath(".//a/@href") == ["/regions/iraq/"]
