"""The HTTP side of the chat app, in-process on loopback with the real model: the Gradio
API through gradio_client and the plain REST route."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

import pytest

import kzqa
from conftest import INDEX, PROTEST, FakeEmbedder, http_get, http_post
from loopback import request

pytestmark = pytest.mark.model

QUESTION = "Can people protest in Kazakhstan?"
HR_URL = "https://thehuman-rights.com/limited_political_freedoms_encourage_citizens_to_flee_kazakhstan"


@pytest.fixture(scope="module")
def client(live_server):
    from gradio_client import Client

    return Client(live_server, verbose=False)


def test_chat_endpoint_quotes_the_passage_verbatim_with_its_citation(client):
    reply = client.predict(QUESTION, api_name="/chat")
    assert PROTEST in reply
    assert "section “Crackdowns on Peaceful Assembly”, ¶ 6." in reply and HR_URL in reply


def test_chat_endpoint_says_when_the_documents_do_not_cover_it(client):
    reply = client.predict("What is a good recipe for pasta?", api_name="/chat")
    assert "do not cover this question" in reply and "score" not in reply


def test_search_endpoint_returns_the_python_api_result_as_json(client):
    data = client.predict(QUESTION, api_name="/search")
    answer = kzqa.Answer.from_dict(data)
    assert not answer.abstained and answer.passages[0].text == PROTEST
    assert data["passages"][0]["citation"] == answer.passages[0].citation()
    local = kzqa.load(INDEX).ask(QUESTION)
    assert [h.id for h in answer.passages] == [h.id for h in local.passages]
    assert [h.text for h in answer.passages] == [h.text for h in local.passages]


def test_search_endpoint_abstains_and_follows_the_thread(client):
    off = client.predict("What is a good recipe for pasta?", 3, [], api_name="/search")
    assert off["abstained"] is True and off["passages"] == []
    follow = client.predict("Who came after him?", 2, ["Who ruled Kazakhstan after independence?"],
                            api_name="/search")
    assert "Kassym-Jomart Tokayev" in follow["passages"][0]["text"] and follow["notes"]
    alone = client.predict("Who came after him?", 2, [], api_name="/search")
    assert alone["abstained"] is True


def test_api_errors_are_clear_messages(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="question is empty"):
        client.predict("   ", api_name="/chat")
    with pytest.raises(AppError, match="k must be"):
        client.predict(QUESTION, 0, [], api_name="/search")


def test_rest_route_answers_get_and_post(live_server):
    q = urllib.parse.quote(QUESTION)
    status, data = http_get(f"{live_server}api/ask?question={q}&k=2")
    assert status == 200 and data["passages"][0]["text"] == PROTEST and len(data["passages"]) == 2
    assert kzqa.Answer.from_dict(data).passages[0].citation() == data["passages"][0]["citation"]
    status, data = http_post(f"{live_server}api/ask", {"question": "Who came after him?",
                                                   "history": ["Who ruled Kazakhstan after independence?"]})
    assert status == 200 and "Kassym-Jomart Tokayev" in data["passages"][0]["text"]
    status, data = http_get(f"{live_server}api/ask?question=%20%20")
    assert status == 400 and "question is empty" in data["error"]
    status, data = http_get(f"{live_server}api/ask?question={q}&k=0")
    assert status == 422 and data["error"].startswith("invalid request: k:")
    status, data = http_get(f"{live_server}api/health")
    assert data == {"status": "ok", "documents": 2, "passages": 19}


def test_every_surface_takes_the_same_filters(client, live_server):
    crackdown = "kazakhstans-human-rights-crackdown"
    data = client.predict("Are elections free?", 5, [], [crackdown], None, None, None, None, api_name="/search")
    assert data["passages"] and {p["doc_id"] for p in data["passages"]} == {crackdown}
    status, data = http_get(f"{live_server}api/ask?question=elections&k=5&document={crackdown}")
    assert status == 200 and {p["doc_id"] for p in data["passages"]} == {crackdown}
    status, data = http_post(f"{live_server}api/ask", {"question": "elections", "k": 5,
                                                       "filters": {"since": 2020}})
    assert status == 200 and data["abstained"] and data["passages"] == []  # no document that recent
    status, data = http_post(f"{live_server}api/ask", {"question": "elections", "filters": {"year": 2020}})
    assert status == 422 and "filters.year" in data["error"]
    status, data = http_get(f"{live_server}api/ask?question=elections&since=2021&until=2019")
    assert status == 400 and "is after until" in data["error"]


def test_styles_and_strength_on_every_surface(client, live_server):
    data = client.predict(QUESTION, 2, [], None, None, None, None, None, "coi", api_name="/search")
    assert data["citation_style"] == "coi" and data["strength"] in ("strong", "partial")
    assert data["passages"][0]["citation"].startswith(
        "thehuman-rights.com: Limited Political Freedoms Encourage Citizens to Flee Kazakhstan, n.d., ")
    assert HR_URL in data["passages"][0]["citation"]
    reply = client.predict(QUESTION, 1, "csl-json", api_name="/chat")
    assert f'"URL": "{HR_URL}"' in reply and PROTEST in reply
    q = urllib.parse.quote(QUESTION)
    status, data = http_get(f"{live_server}api/ask?question={q}&k=1&style=csl-json")
    assert status == 200 and json.loads(data["passages"][0]["citation"])["URL"] == HR_URL
    status, data = http_post(f"{live_server}api/ask", {"question": QUESTION, "style": "coi"})
    assert status == 200 and data["passages"][0]["citation"].startswith("thehuman-rights.com: ")
    status, data = http_get(f"{live_server}api/ask?question={q}&style=apa")
    assert status == 422 and "style" in data["error"]
    off = client.predict("What is a good recipe for pasta?", 2, [], api_name="/search")
    assert off["abstained"] and off["strength"] == "weak" and off["passages"] == [] and off["closest"]


def _post_text(url: str, body: dict) -> tuple[int, str, str]:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, r.headers["Content-Type"], r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers["Content-Type"], e.read().decode()


def test_exports_look_every_quote_up_in_the_index(client, live_server, tmp_path):
    answer = client.predict(QUESTION, 2, [], api_name="/search")
    items = [{"question": QUESTION, "passage_id": p["id"]} for p in answer["passages"]]
    status, kind, text = _post_text(f"{live_server}api/export", {"items": items, "format": "markdown"})
    assert status == 200 and kind.startswith("text/markdown")
    assert f"## {QUESTION}" in text and f"> {PROTEST}" in text
    path = tmp_path / "evidence.md"
    path.write_text(text, encoding="utf-8")
    assert kzqa.verify_export(path, INDEX) == ([], 2)  # re-checks against the index and its files
    path.write_text(text.replace("rarely granted", "rarely grunted"), encoding="utf-8")
    [mismatch], _ = kzqa.verify_export(path, INDEX)
    assert "differs from the source" in str(mismatch)
    status, kind, text = _post_text(f"{live_server}api/export",
                                    {"items": items, "format": "csv", "style": "coi"})
    assert status == 200 and kind.startswith("text/csv") and PROTEST in text and text.count(HR_URL) >= 2
    bibliography = client.predict(items, "bibliography", "coi", api_name="/export")
    documents = {p["doc_id"] for p in answer["passages"]}
    assert bibliography.count("\n") == len(documents) and HR_URL in bibliography
    assert "thehuman-rights.com: Limited Political Freedoms Encourage Citizens to Flee Kazakhstan, n.d., " \
           f"{HR_URL}\n" in bibliography
    status, _, text = _post_text(f"{live_server}api/export",
                                 {"items": [{"question": "q", "passage_id": "nope#1"}]})
    assert status == 400 and "no passage 'nope#1' in the index" in json.loads(text)["error"]
    status, _, text = _post_text(f"{live_server}api/export",
                                 {"items": items, "quotes": ["a forged quote"]})  # text is never taken
    assert status == 422 and "quotes" in json.loads(text)["error"]


def test_an_empty_question_to_the_chat_api_logs_no_traceback(client, capfd):
    from gradio_client.exceptions import AppError

    capfd.readouterr()
    with pytest.raises(AppError, match="question is empty"):
        client.predict("", api_name="/chat")
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err and "gr.Error" not in out + err


def test_the_api_page_describes_each_endpoint_with_its_types(client):
    info = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert info["/chat"]["returns"][0]["python_type"]["type"] == "str"
    assert info["/search"]["returns"][0]["python_type"]["type"] != "Any"
    assert [p["python_type"]["type"] for p in info["/chat"]["parameters"]] == ["str", "int", "str"]


def test_a_short_bounded_load_run_has_no_errors(live_server):
    import sys

    sys.path.insert(0, str(INDEX.parent / "bench"))
    from load import run

    report = run(live_server, clients=5, seconds=3.0, max_requests=300)
    assert report["requests"] > 0 and report["errors"] == 0, report


def test_oversized_bodies_are_refused_before_they_are_read(live_server):
    import http.client

    parts = urllib.parse.urlsplit(live_server)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.putrequest("POST", "/api/ask")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(2 * 1024 * 1024))  # announced, never sent
    conn.endheaders(b"{")
    response = conn.getresponse()
    assert response.status == 413 and "KiB" in json.loads(response.read())["error"]
    conn.close()
    status, data = http_post(f"{live_server}api/ask", {"question": "x" * 5000})  # under the limit
    assert status == 422 and data["error"].startswith("invalid request: question:")


@pytest.mark.parametrize("path", ["gradio_api/file=/etc/passwd", "file=/etc/passwd",
                                  "gradio_api/file=../../README.md", "../../etc/passwd",
                                  "gradio_api/file=" + str(INDEX / "manifest.json"),
                                  "static/../../pyproject.toml"])
def test_no_file_beyond_the_page_is_served(live_server, path):
    try:
        with urllib.request.urlopen(live_server + path, timeout=30) as r:
            body = r.read().decode("utf-8", "replace")
            status = r.status
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read().decode("utf-8", "replace")
    assert "root:x:0:0" not in body and '"format": "kzqa-index"' not in body
    assert "[build-system]" not in body
    assert status in (200, 403, 404, 405)  # 200 only for the page itself (unknown paths)


def test_answer_slots_serve_in_arrival_order_and_refuse_past_the_bound_at_once():
    import threading

    import anyio

    from kzqa.serve.server import AnswerSlots

    gate, order, results = threading.Event(), [], {}

    def job(n):
        gate.wait(10)
        order.append(n)
        return n

    async def main():
        slots = AnswerSlots(working=1, waiting=2)

        async def one(n):
            results[n] = await slots.run(lambda: job(n))

        async with anyio.create_task_group() as tg:
            for n in range(5):
                tg.start_soon(one, n)
                await anyio.sleep(0.05)  # arrive in this order
            assert results == {3: None, 4: None}  # refused while 0 works and 1, 2 wait
            gate.set()

    anyio.run(main)
    assert order == [0, 1, 2] and results == {0: 0, 1: 1, 2: 2, 3: None, 4: None}


def test_rest_turns_requests_away_clearly_when_every_slot_is_taken(built):
    from starlette.testclient import TestClient

    from kzqa.serve.server import make_server

    app = make_server(kzqa.load(built[1], embedder=FakeEmbedder()), working=0, waiting=0)
    client = TestClient(app)
    response = client.get("/api/ask", params={"question": "permits for demonstrations"})
    assert response.status_code == 503 and response.json()["error"].startswith("busy:")
    assert response.headers["retry-after"] == "1"
    response = client.post("/api/ask", content=b"{not json")  # refused before it is even read
    assert response.status_code == 503 and response.json()["error"].startswith("busy:")
    assert client.get("/api/health").status_code == 200


MULTIPART = {"Content-Type": "multipart/form-data; boundary=kzqa"}
UPLOAD = (b'--kzqa\r\nContent-Disposition: form-data; name="files"; filename="x.html"\r\n'
          b"Content-Type: text/html\r\n\r\n<script>alert(1)</script>\r\n--kzqa--\r\n")


@pytest.mark.parametrize("path", ["/gradio_api/upload", "/gradio_api/upload?upload_id=abc",
                                  "/gradio_api/upload/", "//gradio_api//upload", "/upload",
                                  "/gradio_api/Upload", "/gradio_api/process_recording"])
def test_uploads_are_refused(live_server, path):
    status, _, body = request(live_server, "POST", path, UPLOAD, MULTIPART)
    assert status == 403 and b"no uploads" in body and b"x.html" not in body


@pytest.mark.parametrize("path", ["/gradio_api/file=/etc/hostname", "/gradio_api/file/etc/hostname",
                                  "/file=/etc/hostname", "/gradio_api/file%3D/etc/hostname",
                                  "/gradio_api/file=" + str(INDEX / "manifest.json"),
                                  "/gradio_api/file=/tmp/gradio/x/x.html",
                                  "/gradio_api/file=http://127.0.0.1:9/", "/gradio_api/proxy=http://127.0.0.1:9/",
                                  "/gradio_api/monitoring", "/monitoring", "/gradio_api/runs",
                                  "/gradio_api/vibe-code/"])
def test_gradio_file_proxy_and_tool_routes_are_refused(live_server, path):
    for method in ("GET", "HEAD"):
        status, _, body = request(live_server, method, path)
        assert status == 403, (method, path, status)


def test_the_page_and_its_own_assets_still_load(live_server):
    import re

    status, headers, page = request(live_server, "GET", "/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assets = re.findall(r'(?:src|href)="\.?(/?assets/[^"]+\.(?:js|css))"', page.decode())
    assert assets, "the page names no assets"
    for path in [*assets[:4], "/theme.css", "/config", "/gradio_api/info"]:
        status, _, _ = request(live_server, "GET", "/" + path.lstrip("/"))
        assert status == 200, path


def test_openapi_schema_describes_the_rest_routes(live_server):
    status, data = http_get(f"{live_server}api/openapi.json")
    assert status == 200 and data["openapi"].startswith("3.")
    assert set(data["paths"]["/api/ask"]) == {"get", "post"} and "get" in data["paths"]["/api/health"]
    body = data["components"]["schemas"]["AskRequest"]
    assert body["required"] == ["question"] and body["properties"]["k"]["maximum"] == 100
