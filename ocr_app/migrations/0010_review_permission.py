"""Reviewing becomes a permission (``ocr_app.review_line``).

Until now every staff account could review; the upgrade gives the permission to
the accounts that are staff at that moment, so nothing changes for them.
"""

from django.conf import settings
from django.db import migrations

PERMISSION_NAME = "Can review other users' lines waiting for review"


def grant_review_to_staff(apps, schema_editor):
    # Django creates a model's permissions only after all migrations ran
    # (post_migrate), so this one is made here to be granted now.
    db = schema_editor.connection.alias
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    User = apps.get_model(settings.AUTH_USER_MODEL)
    content_type, _ = ContentType.objects.using(db).get_or_create(app_label="ocr_app", model="line")
    permission, _ = Permission.objects.using(db).get_or_create(
        content_type=content_type, codename="review_line", defaults={"name": PERMISSION_NAME}
    )
    for user in User.objects.using(db).filter(is_staff=True).exclude(user_permissions=permission):
        user.user_permissions.add(permission)


class Migration(migrations.Migration):

    dependencies = [
        ("ocr_app", "0009_signin_limits"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="line",
            options={"ordering": ["note", "order"], "permissions": [("review_line", PERMISSION_NAME)]},
        ),
        # Undoing the upgrade leaves the grants: the permission then simply goes unused.
        migrations.RunPython(grant_review_to_staff, migrations.RunPython.noop),
    ]
