"""Security settings: CSP, HSTS only when chosen, attachment access, throttles, real PDFs."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from library.ingest.pdf import PdfExtractor, PdfLimits, PdfProblem
from tests.ingest.pdfmaker import commentary_pdf
from tests.test_settings import PRODUCTION, manage

PASSWORD = "correct horse 42"


# --- Content-Security-Policy -------------------------------------------------------------------


@pytest.mark.django_db
def test_pages_carry_a_policy_that_allows_only_their_own_scripts_and_styles(client):
    policy = client.get(reverse("catalogue:home"))["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy


# --- HSTS: a deployment decision ---------------------------------------------------------------


def hsts(**env: str) -> str:
    code = (
        "from django.conf import settings; "
        "print(settings.SECURE_HSTS_INCLUDE_SUBDOMAINS, settings.SECURE_HSTS_PRELOAD)"
    )
    result = manage("shell", "-c", code, **PRODUCTION, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_hsts_subdomains_and_preload_are_off_unless_configured():
    assert hsts() == "False False"
    assert hsts(SECURE_HSTS_INCLUDE_SUBDOMAINS="1", SECURE_HSTS_PRELOAD="1") == "True True"


def test_production_with_hsts_preload_chosen_still_passes_the_deploy_checks():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="1",
        SECURE_HSTS_PRELOAD="1",
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stderr


# --- attachments -------------------------------------------------------------------------------


@pytest.fixture
def piece_with_pdf(make_piece):
    piece = make_piece("With a file")
    piece.attachment.save("attachment.pdf", ContentFile(b"%PDF-1.4 test"), save=True)
    return piece


@pytest.mark.django_db
def test_attachments_are_for_signed_in_users_by_default(client, piece_with_pdf, editor):
    url = reverse("catalogue:piece_attachment", args=[piece_with_pdf.citation_key])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    page = client.get(piece_with_pdf.get_absolute_url()).content.decode()
    assert "Sign in</a> to download the PDF" in page
    client.force_login(editor)
    assert client.get(url).status_code == 200


@pytest.mark.django_db
def test_attachments_public_lets_anyone_download(client, piece_with_pdf, settings):
    settings.DOSSIER_ATTACHMENTS_PUBLIC = True
    url = reverse("catalogue:piece_attachment", args=[piece_with_pdf.citation_key])
    assert client.get(url).status_code == 200
    assert "Download the PDF" in client.get(piece_with_pdf.get_absolute_url()).content.decode()


# --- throttles ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_failed_sign_ins_across_usernames_lock_the_address(settings, django_user_model):
    settings.DOSSIER_LOGIN_ADDRESS_FAILURE_LIMIT = 8
    django_user_model.objects.create_user("victim", password=PASSWORD)
    client = Client()
    url = reverse("login")
    for number in range(7):  # a password sprayed over usernames: never 5 for one of them
        response = client.post(url, {"username": f"user{number}", "password": "Summer2026!"})
        assert response.status_code == 200
    eighth = client.post(url, {"username": "user7", "password": "Summer2026!"})
    assert eighth.status_code == 429
    locked = client.post(url, {"username": "victim", "password": PASSWORD})
    assert locked.status_code == 429
    # Another address is not affected.
    other = Client(REMOTE_ADDR="10.0.0.9")
    assert other.post(url, {"username": "victim", "password": PASSWORD}).status_code == 302


@pytest.mark.django_db
def test_sign_ups_from_one_address_are_limited_per_hour(settings):
    settings.DOSSIER_SIGNUPS_PER_ADDRESS_PER_HOUR = 2
    url = reverse("signup")
    for number in range(2):
        client = Client()
        data = {"username": f"reader{number}", "password1": PASSWORD, "password2": PASSWORD}
        assert client.post(url, data).status_code == 302
    data = {"username": "reader9", "password1": PASSWORD, "password2": PASSWORD}
    refused = Client().post(url, data)
    assert refused.status_code == 429
    assert "Too many new accounts" in refused.content.decode()
    assert Client(REMOTE_ADDR="10.0.0.9").post(url, data).status_code == 302


# --- PDFs checked beyond their first bytes -----------------------------------------------------

HTML_WITH_PDF_HEADERS = {
    "html first": b"<!doctype html><html><body>%PDF-1.7\n<script>alert(1)</script>"
    b"</body></html>\nstartxref\n0\n%%EOF\n",
    "header first": b"%PDF-1.4\n<html><script>alert(1)</script></html>\n%%EOF\n",
    "with a pointer": b"%PDF-1.4\n<html><script>alert(1)</script></html>\nstartxref\n9\n%%EOF\n",
}


@pytest.fixture(scope="module")
def extractor():
    with PdfExtractor(PdfLimits()) as reader:
        yield reader


@pytest.mark.parametrize("name", list(HTML_WITH_PDF_HEADERS))
def test_an_html_document_with_a_pdf_header_is_refused(extractor, name):
    with pytest.raises(PdfProblem) as refused:
        extractor.pages(HTML_WITH_PDF_HEADERS[name], source="page.pdf")
    assert not refused.value.attention


def test_a_real_pdf_still_reads(extractor):
    assert extractor.pages(commentary_pdf(), source="real.pdf")
