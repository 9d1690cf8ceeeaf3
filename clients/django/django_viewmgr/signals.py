from django.dispatch import Signal

# Sent once per view class after a sync, with sender=the class and the keyword arguments
# django-pgviews-redux sends: update, force, status, has_changed, using.
view_synced = Signal()
# Sent once after every view of a sync is in place: sender=None, using.
all_views_synced = Signal()
