"""The mail templates, shipped inside the package as mailbot.templates (see mailbot/resources.py)."""
