# The app has no models of its own. This module exists because Django sends post_migrate
# only to apps that have one, and the sync runs on this app's post_migrate.
