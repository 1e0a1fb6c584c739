"""Fixture builders for the reader tests: exports written from the platforms' documented layouts.

Every file is generated here (this project's own, MIT): no third-party data. Each builder
returns the bytes of one file and, where it matters, the number of records it holds,
counted independently of the readers.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from xml.sax.saxutils import escape

QUALTRICS_META = ["StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)",
                  "Finished", "RecordedDate", "ResponseId", "RecipientLastName", "RecipientFirstName",
                  "RecipientEmail", "ExternalReference", "LocationLatitude", "LocationLongitude",
                  "DistributionChannel", "UserLanguage"]
_META_QUESTIONS = ["Start Date", "End Date", "Response Type", "IP Address", "Progress",
                   "Duration (in seconds)", "Finished", "Recorded Date", "Response ID",
                   "Recipient Last Name", "Recipient First Name", "Recipient Email", "External Data Reference",
                   "Location Latitude", "Location Longitude", "Distribution Channel", "User Language"]


def csv_text(rows: list[list[object]], *, lineterminator: str = "\r\n") -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=lineterminator).writerows(rows)
    return buf.getvalue()


def wide_qualtrics(n_rows: int = 47, n_questions: int = 2000, *, quote: str = '"') -> tuple[bytes, int]:
    """A Qualtrics export with ``n_questions`` questions (header rows of ~450 KB).

    Q1 asks for the manager's e-mail (its answers are addresses), Q2 the household
    size, Q3 how likely the respondent is to recommend us (0-10), Q4 satisfaction
    (1-5), Q5 "Why did you give this score?" (free text); the rest are long
    matrix questions answered with small codes. ``quote="'"`` writes the 2016
    "Insights" third row (``{'ImportId': 'QID1'}``).
    """
    qcols = [f"Q{i}" for i in range(1, n_questions + 1)]
    texts = {1: "What is the e-mail address of your account manager?", 2: "How many people live in your household?",
             3: "How likely are you to recommend Northwind to a friend or colleague?",
             4: "Overall, how satisfied were you with the support you received?",
             5: "Why did you give this score? Please tell us in your own words."}
    questions = [texts.get(i, f"Thinking about the statement numbered {i} in this long matrix block, how much do "
                              f"you agree with it, where 1 means strongly disagree and 5 means strongly agree? "
                              f"(Block {i // 50}, item {i % 50}, please answer every row of the grid)")
                 for i in range(1, n_questions + 1)]

    def imp(qid: str, extra: str = "") -> str:
        if quote == "'":
            return "{'ImportId': '%s'%s}" % (qid, extra.replace('"', "'"))
        return '{"ImportId":"%s"%s}' % (qid, extra)

    meta_imp = [imp("startDate", ',"timeZone":"America/Denver"'), imp("endDate", ',"timeZone":"America/Denver"'),
                imp("status"), imp("ipAddress"), imp("progress"), imp("duration"), imp("finished"),
                imp("recordedDate", ',"timeZone":"America/Denver"'), imp("_recordId"), imp("recipientLastName"),
                imp("recipientFirstName"), imp("recipientEmail"), imp("externalDataReference"),
                imp("locationLatitude"), imp("locationLongitude"), imp("distributionChannel"), imp("userLanguage")]
    q_imp = [imp(f"QID{i}_TEXT" if i in (1, 5) else f"QID{i}") for i in range(1, n_questions + 1)]
    rows: list[list[object]] = [QUALTRICS_META + qcols, _META_QUESTIONS + questions, meta_imp + q_imp]
    for r in range(n_rows):
        day = 1 + r % 28
        answers = [f"manager{r}@northwind-example.com", str(1 + r % 6), str(r % 11), str(1 + r % 5),
                   f"Response {r}: the agent solved my billing problem quickly, thank you."]
        answers += [str(1 + (r + i) % 5) for i in range(n_questions - 5)]
        rows.append([f"2026-10-{day:02d} 09:00:00", f"2026-10-{day:02d} 09:12:00", "IP Address", "203.0.113.7",
                     "100", "720", "True", f"2026-10-{day:02d} 09:12:01", f"R_wide{r:05d}", "", "", "", "", "",
                     "", "anonymous", "EN"] + answers)
    return ("\ufeff" + csv_text(rows)).encode("utf-8"), n_rows


def generic_rows(n: int, *, start: int = 0) -> list[list[object]]:
    return [[f"r{start + i}", f"2026-10-{1 + i % 28:02d}T10:{i % 60:02d}:00Z", "Northwind Manila", "web",
             1 + i % 5, f"comment number {start + i}: the agent was helpful"] for i in range(n)]


GENERIC_HEADER = ["response_id", "received_at", "team", "channel", "csat", "text"]


def xlsx(rows: dict[tuple[int, int], object] | list[list[object]], *, sheet_xml: str | None = None,
         sheet_name: str = "Sheet1") -> bytes:
    """A minimal workbook: ``rows`` as a list, or ``{(row, col): value}`` (1-based) for sparse cells;
    ``sheet_xml`` replaces the worksheet part as is (a zip-bomb or a hand-made sheet)."""
    if isinstance(rows, list):
        cells = {(r + 1, c + 1): v for r, row in enumerate(rows) for c, v in enumerate(row) if v not in (None, "")}
    else:
        cells = rows

    def ref(r: int, c: int) -> str:
        letters = ""
        while c:
            c, rem = divmod(c - 1, 26)
            letters = chr(65 + rem) + letters
        return f"{letters}{r}"

    if sheet_xml is None:
        by_row: dict[int, list[str]] = {}
        for (r, c), v in sorted(cells.items()):
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                by_row.setdefault(r, []).append(f'<c r="{ref(r, c)}"><v>{v}</v></c>')
            else:
                by_row.setdefault(r, []).append(
                    f'<c r="{ref(r, c)}" t="inlineStr"><is><t xml:space="preserve">{escape(str(v))}</t></is></c>')
        body = "".join(f'<row r="{r}">{"".join(cs)}</row>' for r, cs in sorted(by_row.items()))
        sheet_xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                     '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                     f"<sheetData>{body}</sheetData></worksheet>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                   '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                   "</Types>")
        z.writestr("_rels/.rels",
                   '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
                   "</Relationships>")
        z.writestr("xl/workbook.xml",
                   '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                   'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                   f'<sheets><sheet name="{escape(sheet_name)}" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels",
                   '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
                   "</Relationships>")
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
    return buf.getvalue()


def zendesk_tickets(n: int) -> dict:
    return {"tickets": [{
        "url": f"https://example.zendesk.com/api/v2/tickets/{100 + i}.json", "id": 100 + i,
        "created_at": f"2026-10-{1 + i:02d}T10:00:00Z", "updated_at": f"2026-10-{1 + i:02d}T11:00:00Z",
        "generated_timestamp": 1790000000 + i, "type": "question", "subject": f"Ticket {i}",
        "description": f"My order {i} arrived late and nobody answered my e-mails.", "priority": "normal",
        "status": "solved", "requester_id": 5000 + i, "submitter_id": 5000 + i, "assignee_id": 42,
        "group_id": 7, "brand_id": 1, "via": {"channel": "email", "source": {"from": {}, "to": {}, "rel": None}},
        "satisfaction_rating": {"score": "good" if i % 2 else "bad", "comment": ""},
        "custom_fields": [{"id": 360001001, "value": None}], "tags": [],
    } for i in range(n)], "groups": [{"id": 7, "name": "Billing Team"}], "end_of_stream": True, "count": n}


def xlsx_bomb(path, *, rows: int, cell_chars: int) -> None:
    """A workbook whose one sheet holds ``rows`` cells of ``cell_chars`` repeated letters: it zips
    about 1000:1 (a zip-bomb), written in chunks so the test never holds the XML."""
    base = xlsx({(1, 1): "text"})
    with zipfile.ZipFile(io.BytesIO(base)) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                out.writestr(info.filename, src.read(info))
        with out.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                        b'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>text</t></is></c></row>')
            filler = b"A" * cell_chars
            for start in range(2, rows + 2, 1000):
                sheet.write(b"".join(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>%s</t></is></c></row>' % (r, r, filler)
                                     for r in range(start, min(start + 1000, rows + 2))))
            sheet.write(b"</sheetData></worksheet>")


def microsoft_forms(n: int = 30) -> bytes:
    """A Microsoft Forms export: a multi-select question whose answers are longer than the comments."""
    header = ["Id", "Start time", "Completion time", "Email", "Name",
              "Which of these matter most to you when you choose a supplier?",
              "How satisfied are you with our service?", "Any other comments?"]
    options = ["Pricing", "Brand reputation", "Delivery speed", "Customer support quality", "Sustainability"]
    rows = [header]
    for i in range(n):
        picked = ";".join(options[j] for j in range(5) if (i >> j) & 1 or j == i % 5) + ";"
        rows.append([str(i + 1), f"4/{1 + i % 28}/21 11:2{i % 10}:58", f"4/{1 + i % 28}/21 11:3{i % 10}:58",
                     "anonymous", "", picked, str(1 + i % 5),
                     ["Quick delivery", "Too expensive", "Nice staff", "Late again"][i % 4] + f" ({i})"])
    return csv_text(rows).encode("cp1252")


def surveymonkey_old(n: int = 15) -> bytes:
    """The older SurveyMonkey CSV: ``RespondentID``/``CollectorID``/``StartDate``/``EndDate`` (no spaces),
    then the sub-header row; dates ``MM/DD/YYYY hh:mm:ss AM``."""
    q = ["RespondentID", "CollectorID", "StartDate", "EndDate", "IP Address", "Email Address", "First Name",
         "LastName", "Custom Data", "How likely is it that you would recommend us to a friend or colleague?",
         "Overall, how satisfied are you with our support?", "Please tell us why you gave that score."]
    sub = [""] * 9 + ["Response", "Response", "Open-Ended Response"]
    rows = [q, sub]
    for i in range(n):
        rows.append([str(4400000000 + i), "71234567", f"11/{1 + i:02d}/2015 10:05:51 AM",
                     f"11/{1 + i:02d}/2015 10:09:{10 + i:02d} PM", "198.51.100.4", "", "", "", "",
                     str(i % 11), str(1 + i % 5), f"Reason {i}: the support team answered within a day"])
    return csv_text(rows).encode("utf-8")


def typeform(n: int = 12) -> bytes:
    """Typeform "Download responses" CSV: ``#``, the questions, then the metadata columns (UTC)."""
    header = ["#", "How likely are you to recommend Northwind to a friend?", "Which plan are you on?",
              "What is the main reason for your score?", "Response Type", "Start Date (UTC)", "Stage Date (UTC)",
              "Submit Date (UTC)", "Network ID", "Tags"]
    rows = [header]
    for i in range(n):
        partial = i == n - 1
        rows.append([f"tok{i:04d}abcd", str(i % 11), ["Basic", "Pro", "Team"][i % 3],
                     f"Reason {i}: setup took longer than promised", "partial" if partial else "completed",
                     "2026-06-30 23:10:00", "", "" if partial else "2026-06-30 23:40:00" if i == 0 else
                     f"2026-07-{1 + i:02d} 10:00:00", f"net{i}", ""])
    return csv_text(rows).encode("utf-8")


FRESHDESK_CSV_HEADER = [
    "Ticket ID", "Subject", "Description", "Status", "Priority", "Source", "Type", "Agent", "Group", "Created time",
    "Due by Time", "Resolved time", "Closed time", "Last update time", "Initial response time", "Time tracked",
    "First response time (in hrs)", "Resolution time (in hrs)", "Agent interactions", "Customer interactions",
    "Resolution status", "First response status", "Tags", "Survey results", "Product", "Full name", "Email",
    "Contact ID", "Company Name"]


def freshdesk_csv(n: int = 10) -> bytes:
    rows = [FRESHDESK_CSV_HEADER]
    for i in range(n):
        rows.append([str(3600 + i), "Refund request", "The same complaint text from the same customer", "Closed",
                     "Low", ["Email", "Phone", "Chat", "Portal"][i % 4], "Question", "Agent A", "Billing",
                     f"2026-10-{1 + i // 4:02d} 10:{i:02d}:00", "", "", "", f"2026-10-{1 + i // 4:02d} 12:00:00", "",
                     "", "1.5", "20.25", "2", "1", "Within SLA", "Within SLA", "", ["Awesome", "Not Good", ""][i % 3],
                     "", "Pat Doe", "pat@example.com", "9001", "Acme"])
    return csv_text(rows).encode("utf-8")


def freshdesk_json(n: int = 6) -> bytes:
    tickets = [{"cc_emails": [], "fwd_emails": [], "reply_cc_emails": [], "fr_escalated": False, "spam": i == 5,
                "email_config_id": None, "group_id": 77, "priority": 1, "requester_id": 9001, "responder_id": 42,
                "source": [1, 3, 7][i % 3], "status": [2, 4, 5][i % 3], "subject": f"Order {i} late",
                "to_emails": None, "product_id": None, "id": 500 + i, "type": "Question",
                "due_by": "2026-10-09T10:00:00Z", "fr_due_by": "2026-10-08T10:00:00Z", "is_escalated": False,
                "description_text": f"My order {i} has not arrived after two weeks.",
                "description": f"<div>My order {i} has not arrived after two weeks.</div>", "custom_fields": {"cf_x": None},
                "created_at": f"2026-10-0{1 + i}T09:00:00Z", "updated_at": f"2026-10-0{1 + i}T12:00:00Z", "tags": []}
               for i in range(n)]
    return json.dumps(tickets).encode("utf-8")


def google_play(n: int = 8) -> bytes:
    """Play Console's monthly reviews report: UTF-16 LE with a BOM."""
    from_header = ["Package Name", "App Version Code", "App Version Name", "Reviewer Language", "Device",
                   "Review Submit Date and Time", "Review Submit Millis Since Epoch",
                   "Review Last Update Date and Time", "Review Last Update Millis Since Epoch", "Star Rating",
                   "Review Title", "Review Text", "Developer Reply Date and Time",
                   "Developer Reply Millis Since Epoch", "Developer Reply Text", "Review Link"]
    rows = [from_header]
    for i in range(n):
        rows.append(["com.northwind.app", "412", "4.1.2", "en", "a52", f"2026-10-{1 + i:02d}T10:00:00Z",
                     str(1790000000000 + i), f"2026-10-{1 + i:02d}T10:00:00Z", str(1790000000000 + i),
                     str(1 + i % 5), "" if i % 2 else f"Title {i}", f"The app crashes when I pay ({i})", "", "", "",
                     f"http://play.google.com/console/developers/1/app/2/user-feedback/review-details?reviewId=gp{i}&corpus=PUBLISHED_REPLIED_TO"])
    return b"\xff\xfe" + csv_text(rows).encode("utf-16-le")


ALCHEMER_META = ["Response ID", "Time Started", "Date Submitted", "Status", "Contact ID", "Legacy Comments",
                 "Comments", "Language", "Referer", "SessionID", "User Agent", "Tags", "IP Address", "Longitude",
                 "Latitude", "Country", "City", "State/Region", "Postal"]


def alchemer(n: int = 10) -> bytes:
    header = ALCHEMER_META + ["How satisfied are you with our service?", "Please explain your rating."]
    rows = [header]
    for i in range(n):
        status = ["Complete", "Complete", "Partial", "Disqualified", "Complete"][i % 5]
        rows.append([str(i + 1), f"2026-10-{1 + i:02d} 09:00:00", f"2026-10-{1 + i:02d} 09:05:00", status, "",
                     "", "internal note: call back" if i == 0 else "", "English", "", f"s{i}", "Mozilla", "",
                     "198.51.100.9", "", "", "United Kingdom", "Leeds", "", "", str(1 + i % 5),
                     f"Explanation {i}: the engineer arrived on time"])
    return csv_text(rows).encode("utf-8")


def delighted(n: int = 10, *, nps: bool = True) -> bytes:
    header = ["Response ID", "Email", "Name", "Score", "Comment", "Response timestamp", "Notes", "Tags",
              "Delighted Source", "Delighted Device Type", "Delighted Operating System", "Delighted Browser",
              "Delighted Country", "plan"]
    rows = [header]
    for i in range(n):
        rows.append([str(9000 + i), f"c{i}@example.com", "", str(i % 11 if nps else 1 + i % 5),
                     f"Comment {i}: billing is confusing", f"2026-10-{1 + i:02d} 10:00:00 +0000", "", "", "Email",
                     "Desktop", "Windows", "Chrome", "GB", "Pro"])
    return csv_text(rows).encode("utf-8")


def appbot(n: int = 6) -> bytes:
    header = ["id", "published_at", "rating", "author", "subject", "body", "translated_subject", "translated_body",
              "store", "app_name", "version", "country", "language", "sentiment", "topics"]
    rows = [header]
    for i in range(n):
        rows.append([f"r{i}", f"2026-10-{1 + i:02d}", str(1 + i % 5), f"user{i}", f"Subject {i}",
                     f"Body {i}: login fails after the update", "", "", "google_play", "Northwind", "4.1",
                     "GB", "en", "negative", "Login"])
    return csv_text(rows).encode("utf-8")
