"""Inbound mail: from SMTP bytes to one domain event or a named disposition."""
