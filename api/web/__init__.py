"""What every page shares: sign-in, the home page, the language switch, templating, navigation,
the base template and the shared scripts. Each area's own pages are in `api/<area>/pages.py`.
"""

from api.web import pages

ROUTES = [*pages.ROUTES]
