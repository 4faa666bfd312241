"""Lines, deleted lines and titles stored with decomposed accents ("e" and a
combining accent) are composed (NFC), as Inkdex now stores every text and as
queries are: until then no search found them. Rows already composed (nearly all)
are read and left alone; an updated line is indexed again by the search triggers."""

import unicodedata

from django.db import migrations

TEXTS = {"Line": ("text", "ocr_text"), "DeletedLine": ("text", "ocr_text"), "Note": ("title",)}


def compose(apps, schema_editor) -> None:
    alias = schema_editor.connection.alias
    for model_name, fields in TEXTS.items():
        rows = apps.get_model("ocr_app", model_name).objects.using(alias)
        for row in rows.only("pk", *fields).iterator(chunk_size=2000):
            values = {name: getattr(row, name) for name in fields}
            if all(unicodedata.is_normalized("NFC", value) for value in values.values()):
                continue
            rows.filter(pk=row.pk).update(**{name: unicodedata.normalize("NFC", value) for name, value in values.items()})


class Migration(migrations.Migration):
    dependencies = [("ocr_app", "0025_note_warnings")]

    # Nothing to undo: composed text is the same text.
    operations = [migrations.RunPython(compose, migrations.RunPython.noop)]
