"""Authentication: ticket, WAMP-CRA (and salted), SCRAM and cryptosign, client and router halves.

Empty until the authentication issue lands; it exists so that a fresh checkout installs (the
package is listed in pyproject.toml, and git does not keep empty directories).
"""
