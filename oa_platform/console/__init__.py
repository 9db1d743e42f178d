"""The staff console at /staff/: the daily work of an agency's staff, by role, in their language.

Every console view is wrapped by ``access.console_view``: staff login, membership of the account in the URL
(404 otherwise: another agency's account does not exist for you), the role the page needs (403 otherwise).
Pages extend ``templates/staff/base.html``, whose navigation comes from ``nav.nav_items``."""
