"""The gettext catalogs, shipped inside the package as mailbot.locales (see mailbot/resources.py)."""
