import uuid

import pytest

from application.ports import MailMessage
from infrastructure.mail.smtp import SmtpMailer
from tests.support.smtp import SmtpServer

pytestmark = pytest.mark.integration


def test_message_arrives_at_the_smtp_server(smtp_server: SmtpServer) -> None:
    to = f"{uuid.uuid4().hex}@example.org"
    mailer = SmtpMailer(smtp_server.url, timeout=5)

    mailer.send(MailMessage(to, "Reset your password", "Token: 1234 — café\n"))

    [received] = smtp_server.received_by(to)
    assert received["To"] == to
    assert received["From"] == "trawl@localhost"
    assert received["Subject"] == "Reset your password"
    assert received.get_content() == "Token: 1234 — café\n"
