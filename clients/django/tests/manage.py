#!/usr/bin/env python3
import os
import sys

if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    # the app under test lives one directory up; the test project here
    sys.path[:0] = [os.path.dirname(here), here]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
