"""``werkzeug.utils``: file names, redirects, files, imports."""

from kettle.config import import_string
from kettle.filestorage import secure_filename
from kettle.helpers import redirect, send_file, send_from_directory

__all__ = ["import_string", "redirect", "secure_filename", "send_file", "send_from_directory"]
