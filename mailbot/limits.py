"""Limits that both sides of the bot state: what intake keeps of a party's documents, and what the
mails tell the parties they may send (so the two never disagree)."""

MAX_DOCUMENTS = 10  # documents kept from one mail
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024  # per document
