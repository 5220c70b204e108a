"""Signed checkpoints and exports through the CLI, on Postgres, checked offline."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from application.audit import exports
from infrastructure.audit import records
from interfaces.bootstrap import Trawl
from interfaces.cli.main import main
from tests.integration.infrastructure.postgres.helpers import execute, new_caller
from tests.support import s3

pytestmark = pytest.mark.integration


def some_history(trawl: Trawl) -> None:
    owner = new_caller()
    for n in range(4):
        project = trawl.projects.create(owner, f"P{n}").id
        trawl.projects.update(owner, project, name=f"Q{n}")


def public_key(capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["audit", "public-key"]) == 0
    return capsys.readouterr().out.strip().splitlines()[-1]


def test_an_export_verifies_offline_against_a_signed_checkpoint(
    trawl: Trawl, cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    some_history(trawl)
    checkpoint, export = cli / "checkpoint.json", cli / "export.jsonl"
    assert main(["audit", "checkpoint", "--out", str(checkpoint)]) == 0
    assert json.loads(checkpoint.read_text())["position"] == 8
    assert main(["audit", "export", "--from", "3", "--out", str(export)]) == 0
    key = public_key(capsys)
    assert len(export.read_text().splitlines()) == 1 + 6  # header + positions 3..8

    assert main(["audit", "verify-export", str(export), "--checkpoint", str(checkpoint),
                 "--public-key", key]) == 0  # fmt: skip
    assert "position 8 matches" in capsys.readouterr().out


def test_an_edited_export_or_a_forged_checkpoint_fails(
    trawl: Trawl, cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    some_history(trawl)
    checkpoint, export = cli / "checkpoint.json", cli / "export.jsonl"
    main(["audit", "checkpoint", "--out", str(checkpoint)])
    main(["audit", "export", "--out", str(export)])
    key = public_key(capsys)
    lines = export.read_text().splitlines()
    line = json.loads(lines[5])
    line["topic"] = "trawl:project.deleted"
    export.write_text("\n".join([*lines[:5], json.dumps(line), *lines[6:]]) + "\n")
    assert main(["audit", "verify-export", str(export), "--checkpoint", str(checkpoint),
                 "--public-key", key]) == 1  # fmt: skip
    assert "BROKEN at position 5" in capsys.readouterr().out

    forged = json.loads(checkpoint.read_text())
    forged["position"] = 7
    checkpoint.write_text(json.dumps(forged))
    assert main(["audit", "verify-export", str(export), "--checkpoint", str(checkpoint),
                 "--public-key", key]) == 1  # fmt: skip
    assert "signature does not verify" in capsys.readouterr().out


def test_verify_names_the_bad_position_and_resumes_from_a_checkpoint(
    trawl: Trawl, url: str, cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    some_history(trawl)
    assert main(["audit", "verify"]) == 0
    assert main(["audit", "checkpoint"]) == 0
    trawl.projects.create(new_caller(), "After the checkpoint")
    assert main(["audit", "verify", "--from-checkpoint"]) == 0
    assert "ok: 1 events verified after position 8" in capsys.readouterr().out

    execute(url, "DELETE FROM trawl_events WHERE notification_id = 2")
    assert main(["audit", "verify"]) == 1
    assert "BROKEN at position 2" in capsys.readouterr().out
    assert main(["audit", "verify", "--from-checkpoint"]) == 0  # the edit is before it


def test_the_standalone_verifier_in_the_docs_accepts_an_export(
    trawl: Trawl, cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    some_history(trawl)
    checkpoint, export = cli / "checkpoint.json", cli / "export.jsonl"
    main(["audit", "checkpoint", "--out", str(checkpoint)])
    main(["audit", "export", "--out", str(export)])
    key = public_key(capsys)
    doc = (Path(__file__).parents[4] / "docs" / "audit.md").read_text()
    script = cli / "verify.py"
    script.write_text(doc.split("```python\n", 1)[1].split("```", 1)[0])
    done = subprocess.run(
        [sys.executable, str(script), str(export), str(checkpoint), key],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "ok"), done.stderr


def test_an_export_to_s3_verifies(trawl: Trawl) -> None:
    some_history(trawl)
    with s3.s3_server() as server:
        bucket, client = server.create_bucket(), server.client()
        datastore = trawl.store.recorder.datastore  # type: ignore[attr-defined]
        count = records.export(
            trawl.store.audit_log, datastore, 1, 8, f"s3://{bucket}/audit/log.jsonl", s3=client
        )
        body = client.get_object(Bucket=bucket, Key="audit/log.jsonl")["Body"].read().decode()
    check = exports.check_export(body.splitlines(), [8])
    assert count == 8 and check.result.ok
    assert check.links[8] == trawl.store.audit_log.chain_head()[1]
