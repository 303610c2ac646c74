"""``anshin checkout demo``: use case E end to end on real photos, on demand (it does not slow
``anshin demo``): the fake payment provider, central over HTTP, the enrolment kiosk and the exit
camera (dlib embeddings via face_recognition on ``media/face_recognition_examples``).

1. A customer without consent is refused: nothing stored. Two customers consent (Obama, Biden
   photos; 2 photos each, discarded after enrolment) with card tokens from the payment adapter.
2. The first member scans two items and leaves (``obama3.jpg``): charged once; the exit event is
   delivered again and nothing more is charged.
3. An unknown face (``kit_harington/john1.jpeg``) passes the gate: ignored, no row and no file added.
4. The member comes back, scans one item and a phone showing his photo is held to the camera:
   the liveness cue sees the screen's pixel grid, so it becomes a review item for staff; nothing is charged.
5. The second member withdraws consent: the key is deleted, the template cannot be read, and the
   audit chain still verifies.

Like ``anshin.demo`` this is a composition root: it wires edge and central, which never import
each other. Prints one JSON summary; ``--keep`` leaves central running to look at
``/stores/checkout-demo/checkout`` (accounts printed).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from edge.usecases.checkout.cli import gate_command
from services.central.usecases.checkout.cli import erase_inactive_command

checkout_app = typer.Typer(help="Use case E: opt-in face checkout (demo, exit gate, erasure of inactive members).", no_args_is_help=True)
checkout_app.command("erase-inactive")(erase_inactive_command)
checkout_app.command("gate")(gate_command)  # the exit camera: one exit per passage

STORE = "checkout-demo"
EXAMPLES = "face_recognition_examples"


def _counts(db) -> dict[str, int]:  # noqa: ANN001 - Database
    """Rows per table (every table of the schema), to show an unknown face adds none."""
    from sqlalchemy import func, select

    from services.central.db.tables import Base

    with db.read_session() as session:
        return {t.name: int(session.execute(select(func.count()).select_from(t)).scalar_one()) for t in Base.metadata.sorted_tables}


def _files(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.name.endswith(("-wal", "-shm", "-journal"))}


def phone_photo(rgb: Any, face_side: int) -> Any:
    """A photo shown on a phone held to the gate camera: seen at the gate's scale through the screen's pixel grid."""
    from edge.usecases.checkout.liveness import at_gate_scale, recapture_screen

    return recapture_screen(at_gate_scale(rgb, face_side))


def run_checkout_demo(data_dir: Path = Path("var/checkout-demo"), host: str = "127.0.0.1", keep_s: float = 0.0) -> dict[str, Any]:
    from anshin.demo import CentralServer, free_port
    from edge.paths import media_dir
    from edge.usecases.checkout.client import CheckoutClient, observe
    from edge.usecases.checkout.faces import load_rgb
    from services.central.api.app import create_app
    from services.central.auth import create_key
    from services.central.db.tables import ReviewItem
    from services.central.settings import Settings
    from services.central.stores import set_profile
    from services.central.usecases.checkout.consent import CURRENT_VERSION
    from services.central.usecases.checkout.crypto import MASTER_KEY_ENV, encode_master_key, new_master_key
    from services.central.usecases.checkout.fake_provider import running_provider
    from services.central.usecases.checkout.payment import PaymentAdapter

    photos = media_dir() / EXAMPLES
    if not photos.is_dir():
        raise typer.BadParameter(f"{photos} not found (see ../shared/data/MANIFEST.md)")
    generated_key = MASTER_KEY_ENV not in os.environ
    if generated_key:  # demo only: a real store sets it from its secrets (anshin secrets generate)
        os.environ[MASTER_KEY_ENV] = encode_master_key(new_master_key())
    data_dir.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {"store_id": STORE, "master_key": "generated for this run" if generated_key else "from environment"}
    with running_provider() as provider:
        os.environ["ANSHIN_CHECKOUT_PROVIDER_URL"], os.environ["ANSHIN_CHECKOUT_PROVIDER_KEY"] = provider.url, provider.secret_key
        port = free_port(host)
        app = create_app(Settings(data_dir=data_dir, host=host, port=port))
        server = CentralServer(app, host, port)
        server.start()
        try:
            db = app.state.db
            with db.unit_of_work() as session:
                set_profile(session, STORE, "identified", "JP", "Demo store (opt-in face checkout)", actor="demo")
                key = create_key(session, f"checkout-demo-{time.time_ns()}", ["events:write"], STORE, actor="demo").secret
            kiosk = CheckoutClient(server.url, key, STORE)
            adapter = PaymentAdapter(provider.url, provider.secret_key)
            consent = {"consent_version": CURRENT_VERSION, "language": "ja", "channel": "kiosk"}
            obama = [load_rgb(str(photos / "knn_examples/train/obama" / f)) for f in ("obama.jpg", "obama2.jpg")]
            biden = [load_rgb(str(photos / "knn_examples/train/biden" / f)) for f in ("biden.jpg", "biden2.jpg")]

            before = _counts(db)
            refused = kiosk.enrol(biden[:1], consent=False, payment_token=adapter.tokenize("4242424242424242"), **consent)
            summary["without_consent"] = {"status": refused.status_code, "rows_added": sum(_counts(db).values()) - sum(before.values())}

            member = kiosk.enrol(obama, consent=True, payment_token=adapter.tokenize("4242424242424242"), **consent).json()["member_id"]
            other = kiosk.enrol(biden, consent=True, payment_token=adapter.tokenize("5555555555554444"), **consent).json()["member_id"]
            del obama, biden  # the kiosk keeps no photo
            summary["members"] = {"obama": member, "biden": other}

            basket = kiosk.add_items(member, [{"sku": "4901234567894", "name": "Green tea 500 ml", "qty": 2, "unit_yen": 150},
                                              {"sku": "4909876543210", "name": "Onigiri salmon", "qty": 1, "unit_yen": 180}]).json()
            exit_face = observe(load_rgb(str(photos / "obama3.jpg")))
            assert exit_face is not None
            first = kiosk.send_exit(exit_face, "gate1-0001", "exit-1").json()
            again = kiosk.send_exit(exit_face, "gate1-0001", "exit-1").json()  # the exit event delivered twice
            summary["member_exit"] = {"basket_yen": basket["amount_yen"], "first": first, "redelivered": again,
                                      "charges_at_provider": len(provider.ledger.charges),
                                      "charged_yen": sum(c["amount"] for c in provider.ledger.charges.values())}

            rows, files = _counts(db), _files(data_dir)
            unknown = kiosk.exit(load_rgb(str(photos / "knn_examples/train/kit_harington/john1.jpeg")), "gate1-0002", "exit-1")
            assert unknown is not None
            summary["unknown_face"] = {"answer": unknown.json(), "rows_added": sum(_counts(db).values()) - sum(rows.values()),
                                       "files_changed": sorted(set(_files(data_dir).items()) ^ set(files.items()))}

            kiosk.add_items(member, [{"sku": "4901111111111", "name": "Hand soap", "qty": 1, "unit_yen": 320}])
            shown = load_rgb(str(photos / "knn_examples/test/obama1.jpg"))
            seen = observe(shown)
            assert seen is not None
            doubtful = kiosk.exit(phone_photo(shown, seen.face.side_px), "gate1-0003", "exit-1")
            answer = doubtful.json() if doubtful is not None else {"outcome": "no face found"}
            with db.read_session() as session:
                from sqlalchemy import select

                from services.central.usecases.checkout.tables import CheckoutCharge

                charge = session.scalars(select(CheckoutCharge).where(CheckoutCharge.exit_id == "gate1-0003")).first()
                item = session.scalars(select(ReviewItem.id).where(ReviewItem.event_id == charge.event_id)).first() if charge else None
            summary["doubtful_exit"] = {"answer": answer, "review_item": item, "charges_at_provider": len(provider.ledger.charges)}
            # The second member withdraws at the staff desk: key deleted, template unreadable, chain intact.
            from services.central import audit
            from services.central.usecases.checkout.crypto import TemplateUnavailable, master_key_from_env
            from services.central.usecases.checkout.service import member_template

            withdrawn = kiosk.withdraw(other)
            with db.read_session() as session:
                try:
                    member_template(session, master_key_from_env(), other)
                    readable = True
                except TemplateUnavailable:
                    readable = False
                chain = audit.verify(session)
            summary["erasure"] = {"member": other, "status": withdrawn.status_code, "template_readable": readable,
                                  "audit_chain_ok": chain.ok, "audit_entries": chain.checked}
            summary["pages"] = [f"{server.url}/stores/{STORE}/checkout", f"{server.url}/reviews/{item}" if item else None]
            if keep_s > 0:
                from services.central.users.cli import generate_password
                from services.central.users.service import ensure_user

                password = generate_password()
                with db.unit_of_work() as session:
                    ensure_user(session, "checkout-demo", password, "manager", actor="demo")
                print(json.dumps({"sign_in": {"user": "checkout-demo", "password": password}, **summary}, indent=2), flush=True)
                time.sleep(keep_s)
            adapter.close()
        finally:
            server.stop()
    return summary


@checkout_app.command("demo")
def checkout_demo(
    data_dir: Annotated[Path, typer.Option("--data-dir", help="central's data folder for the demo")] = Path("var/checkout-demo"),
    keep: Annotated[float, typer.Option("--keep", help="keep central running this many seconds to look at the pages")] = 0.0,
) -> None:
    """Enrol with consent, charge once at the exit, ignore an unknown face, send a doubtful one to staff."""
    print(json.dumps(run_checkout_demo(data_dir, keep_s=keep), sort_keys=True))
