"""Orders by mail: a shop puts its secret intake address in BCC of its order confirmations."""
