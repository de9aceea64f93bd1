"""Reading a multipart/form-data body as a server does (the fakes of OpenAI and Cloudinary)."""

from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.message import Message
from email.parser import BytesParser


@dataclass(frozen=True)
class Part:
    name: str
    filename: str | None
    content_type: str
    data: bytes


def parts_of(content_type: str, body: bytes) -> list[Part]:
    message = BytesParser(policy=policy.compat32).parsebytes(  # the fast parser
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise ValueError("not a multipart body")
    found = []
    for part in message.get_payload():
        assert isinstance(part, Message)
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        found.append(Part(str(name), filename, part.get_content_type(), data))
    return found


def fields_of(parts: list[Part]) -> dict[str, str]:
    """The parts that are plain fields (no file name), as text."""
    return {part.name: part.data.decode() for part in parts if part.filename is None}
