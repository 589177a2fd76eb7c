"""The kzqa command: its arguments (main.py) and what each command does (commands.py)."""
