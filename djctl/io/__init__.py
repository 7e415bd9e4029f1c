"""Files in and out: workbooks (openpyxl) and documents (Jinja2, Word templates)."""
