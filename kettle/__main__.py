"""``python -m kettle``: the same as the ``kettle`` command."""

from kettle.cli import main

if __name__ == "__main__":
    main()
