"""Outbound mail: from a decision's effects to bytes in the outbox, and their delivery."""
