"""The OpenAPI document describes every answer, and 405s say which methods work."""

from __future__ import annotations

from fastapi.testclient import TestClient

PROBLEM = {"$ref": "#/components/schemas/Problem"}


def test_every_error_answer_is_a_documented_problem(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    responses = document["components"]["responses"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            answers = operation["responses"]
            errors = {code for code in answers if code >= "400"}
            assert "405" in errors, (method, path)
            if "{" in path:
                assert "404" in errors, (method, path)
            if operation.get("security"):
                assert "401" in errors, (method, path)
            if operation.get("requestBody"):
                assert {"400", "422"} <= errors, (method, path)
            for code in errors:
                answer = responses[answers[code]["$ref"].rsplit("/", 1)[1]]
                assert answer["content"]["application/problem+json"]["schema"] == PROBLEM
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert responses["MethodNotAllowed"]["headers"]["Allow"]["required"] is True


def test_limits_and_tracking_bodies_are_documented(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert schemas["FeedbackCreate"]["properties"]["text"]["maxLength"] == 5000
    assert schemas["LinkCreate"]["properties"]["days"]["maximum"] == 365
    track = document["paths"]["/v1/track"]["post"]
    assert track["security"] == [{"WriteKey": []}]
    assert document["components"]["securitySchemes"]["WriteKey"]["scheme"] == "basic"
    body = track["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/TrackCall"}
    assert "event" in schemas["TrackCall"]["required"]
    assert "413" in track["responses"]
    batch = document["paths"]["/v1/batch"]["post"]["requestBody"]["content"]["application/json"]
    assert batch["schema"] == {"$ref": "#/components/schemas/Batch"}


def test_405_lists_every_method_of_the_path(client: TestClient) -> None:
    answer = client.put("/api/v1/customers/1")
    assert answer.status_code == 405
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["allow"] == "GET, PATCH"
    page = client.put("/staff/login", headers={"Accept": "text/html"})
    assert page.status_code == 405
    assert page.headers["allow"] == "GET, POST"


def test_401_asks_for_the_credentials_the_path_takes(client: TestClient) -> None:
    api = client.get("/api/v1/customers")
    assert api.status_code == 401
    assert api.headers["www-authenticate"] == "Bearer"
    tracking = client.post("/v1/track", json={"event": "Viewed", "userId": "u-1"})
    assert tracking.status_code == 401
    assert tracking.headers["www-authenticate"] == 'Basic realm="tracking"'
