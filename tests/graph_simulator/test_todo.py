"""Microsoft To Do: the default list, tasks with linked resources, status, delta."""

from __future__ import annotations

from tests.graph_simulator.conftest import Graph


def _default_list(graph: Graph) -> str:
    lists = graph.request(
        "GET",
        "/todo/lists",
        "todoTaskList",
        params={"$filter": "wellknownListName eq 'defaultList'"},
    )
    [found] = lists.json()["value"]
    return str(found["id"])


def test_tasks_carry_the_crm_id_in_a_linked_resource(graph: Graph) -> None:
    tasks = f"/todo/lists/{_default_list(graph)}/tasks"
    body = {
        "title": "Call back",
        "status": "inProgress",
        "dueDateTime": {"dateTime": "2026-12-10T00:00:00.0000000", "timeZone": "UTC"},
        "linkedResources": [
            {"applicationName": "crmsync", "displayName": "CRM task 42", "externalId": "42"}
        ],
    }
    created = graph.request("POST", tasks, "todoTask", json=body)
    assert created.status_code == 201, created.text
    task_id = created.json()["id"]
    listed = graph.request("GET", tasks, "todoTask", params={"$expand": "linkedResources"})
    [task] = listed.json()["value"]
    assert task["linkedResources"][0]["externalId"] == "42"
    done = graph.request("PATCH", f"{tasks}/{task_id}", "todoTask", json={"status": "completed"})
    assert done.json()["completedDateTime"]["timeZone"] == "UTC"


def test_invalid_status_is_refused_and_nothing_is_written(graph: Graph) -> None:
    tasks = f"/todo/lists/{_default_list(graph)}/tasks"
    response = graph.request("POST", tasks, json={"title": "x", "status": "done"})
    assert response.status_code == 400
    assert graph.request("GET", tasks).json()["value"] == []


def test_task_delta_reports_changes_and_deletions(graph: Graph) -> None:
    tasks = f"/todo/lists/{_default_list(graph)}/tasks"
    ids = [graph.request("POST", tasks, json={"title": f"t{n}"}).json()["id"] for n in range(3)]
    values, link, _ = graph.delta_round(f"{tasks}/delta", "todoTask")
    assert {v["id"] for v in values} == set(ids)
    graph.request("PATCH", f"{tasks}/{ids[0]}", json={"title": "renamed"})
    graph.request("DELETE", f"{tasks}/{ids[1]}")
    changes, _, _ = graph.delta_round(link, "todoTask")
    assert {v["id"]: v.get("title", v.get("@removed")) for v in changes} == {
        ids[0]: "renamed",
        ids[1]: {"reason": "deleted"},
    }
