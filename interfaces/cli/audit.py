"""`trawl audit ...`: verify the chain, sign checkpoints, export, prove deletion."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any
from uuid import UUID

from application.audit import exports
from application.audit.checks import DeletionReporter
from application.audit.verification import ChainVerifier
from infrastructure.audit import records, signing
from interfaces.cli.progress import bar
from interfaces.cli.runtime import add_data_dir, settings_from, trawl

RESUME_FILE = "audit_verify.json"


def register(commands: Any) -> None:
    audit = commands.add_parser("audit", help="verify, sign, export and prove deletion")
    sub = audit.add_subparsers(dest="audit_command", required=True, metavar="COMMAND")

    verify = sub.add_parser("verify", help="walk the hash chain; name the first bad position")
    start = verify.add_mutually_exclusive_group()
    start.add_argument("--after", type=int, default=0, help="start after this position")
    start.add_argument("--resume", action="store_true", help="go on from the last walk")
    start.add_argument(
        "--from-checkpoint", action="store_true", help="start at the newest signed checkpoint"
    )
    verify.set_defaults(handler=run_verify)

    checkpoint = sub.add_parser("checkpoint", help="sign the chain's head (Ed25519)")
    checkpoint.add_argument("--out", help="also write the checkpoint (JSON) to this file")
    checkpoint.set_defaults(handler=run_checkpoint)

    key = sub.add_parser("public-key", help="print the public key auditors check against")
    key.set_defaults(handler=run_public_key)

    export = sub.add_parser("export", help="write events and links as JSON Lines")
    export.add_argument("--from", dest="first", type=int, default=1, help="first position")
    export.add_argument("--to", dest="last", type=int, help="last position (default: head)")
    export.add_argument("--out", required=True, help="a file, or s3://bucket/key")
    export.set_defaults(handler=run_export)

    offline = sub.add_parser(
        "verify-export", help="check an export offline against a signed checkpoint"
    )
    offline.add_argument("file")
    offline.add_argument("--checkpoint", required=True, help="checkpoint JSON file")
    offline.add_argument("--public-key", required=True, help="the public key (hex)")
    offline.set_defaults(handler=run_verify_export)

    report = sub.add_parser("deletion-report", help="prove a deleted project left every store")
    report.add_argument("project_id", type=UUID, metavar="PROJECT_ID")
    report.set_defaults(handler=run_deletion_report)
    for parser in (verify, checkpoint, key, export, report):
        add_data_dir(parser)


def run_verify(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    resume = settings.data_path / RESUME_FILE
    with trawl(settings, projectors=False) as app:
        log = app.store.audit_log
        after, previous = args.after, None
        if args.resume and resume.exists():
            saved = json.loads(resume.read_text())
            after, previous = saved["position"], bytes.fromhex(saved["link"])
        if args.from_checkpoint:
            checkpoint = records.latest(app.store.recorder.datastore)  # type: ignore[attr-defined]
            key = signing.public_bytes(signing.signing_key(settings))
            if checkpoint is None or not signing.check(checkpoint, key):
                print("no checkpoint signed with this key", file=sys.stderr)
                return 2
            after, previous = checkpoint.position, checkpoint.link
        head = log.chain_head()[0]
        with bar("verify", head) as advance:
            result = ChainVerifier(log).verify(after, previous, progress=advance)
        if result.verified or result.ok:
            resume.write_text(
                json.dumps({"position": result.last_position, "link": result.last_link.hex()})
            )
    if not result.ok:
        print(f"BROKEN at position {result.first_bad_position}: {result.reason}")
        print(
            f"(verified {result.verified} events after {after}; last good {result.last_position})"
        )
        return 1
    print(f"ok: {result.verified} events verified after position {after}")
    print(f"head {result.last_position} link {result.last_link.hex()}")
    return 0


def run_checkpoint(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    with trawl(settings, projectors=False) as app:
        position, link = app.store.audit_log.chain_head()
        checkpoint = signing.sign(signing.signing_key(settings), position, link)
        records.save(app.store.recorder.datastore, checkpoint)  # type: ignore[attr-defined]
    text = json.dumps(checkpoint.to_json(), indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(text)
    return 0


def run_public_key(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    print(signing.public_bytes(signing.signing_key(settings)).hex())
    return 0


def run_export(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    with trawl(settings, projectors=False) as app:
        last = args.last or app.store.audit_log.chain_head()[0]
        datastore = app.store.recorder.datastore  # type: ignore[attr-defined]
        count = records.export(
            app.store.audit_log, datastore, args.first, last, args.out, settings.s3_endpoint_url
        )
    print(f"exported {count} events ({args.first}..{last}) to {args.out}")
    return 0


def run_verify_export(args: argparse.Namespace) -> int:
    checkpoint = exports.Checkpoint.from_json(json.loads(Path(args.checkpoint).read_text()))
    if not signing.check(checkpoint, bytes.fromhex(args.public_key)):
        print("the checkpoint's signature does not verify with this public key")
        return 1
    with Path(args.file).open(encoding="utf-8") as lines:
        check = exports.check_export(lines, [checkpoint.position])
    result = check.result
    if not result.ok:
        print(f"BROKEN at position {result.first_bad_position}: {result.reason}")
        return 1
    if check.links.get(checkpoint.position) != checkpoint.link:
        print(f"the export does not hold the checkpoint's link at {checkpoint.position}")
        return 1
    print(
        f"ok: {result.verified} events verified; position {checkpoint.position} matches"
        f" the checkpoint signed at {checkpoint.signed_at}"
    )
    return 0


def run_deletion_report(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    with trawl(settings, projectors=False) as app:
        report = DeletionReporter(app.store, app.deletion_checks).report(args.project_id)
    print(f"project {report.project_id}, deleted at {report.deleted_at}")
    print(f"URLs it ever had: {len(report.url_ids)}")
    for finding in report.findings:
        print(f"[{'ok' if finding.ok else 'FAIL'}] {finding.check}: {finding.summary}")
        for detail in finding.details:
            print(f"    {detail}")
    return 0 if report.ok else 1
