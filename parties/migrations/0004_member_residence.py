# The member's household now lives in grids.MemberResidence (copied there by grids 0004).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('parties', '0003_no_secretary_index'),
        ('grids', '0004_member_residence'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='member',
            name='household',
        ),
    ]
