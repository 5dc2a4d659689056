"""mailbot: runs an online-shop trust service's buyer-protection process entirely by email."""
