# Where a Party member lives moves from parties.Member.household to grids.MemberResidence, so the
# chain (parties) no longer depends on the grids. The rows are copied before the old field goes.

import django.db.models.deletion
from django.db import migrations, models


def copy_homes(apps, schema_editor):
    Member = apps.get_model("parties", "Member")
    MemberResidence = apps.get_model("grids", "MemberResidence")
    homes = Member.objects.exclude(household=None).values_list("pk", "household_id")
    MemberResidence.objects.bulk_create(
        [MemberResidence(member_id=member, household_id=household) for member, household in homes.iterator()],
        batch_size=5000,
    )


def copy_back(apps, schema_editor):
    Member = apps.get_model("parties", "Member")
    MemberResidence = apps.get_model("grids", "MemberResidence")
    for member, household in MemberResidence.objects.values_list("member_id", "household_id").iterator():
        Member.objects.filter(pk=member).update(household_id=household)


class Migration(migrations.Migration):

    dependencies = [
        ('grids', '0003_id_card_required'),
        ('parties', '0003_no_secretary_index'),
    ]

    operations = [
        migrations.CreateModel(
            name='MemberResidence',
            fields=[
                ('member', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='residence', serialize=False, to='parties.member', verbose_name='Party member')),
                ('household', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='member_residences', to='grids.household', verbose_name='household')),
            ],
            options={
                'verbose_name': "Party member's residence",
                'verbose_name_plural': "Party members' residences",
            },
        ),
        migrations.AddField(
            model_name='household',
            name='party_members',
            field=models.ManyToManyField(blank=True, related_name='+', through='grids.MemberResidence', to='parties.member', verbose_name='Party members living here'),
        ),
        migrations.RunPython(copy_homes, copy_back),
    ]
