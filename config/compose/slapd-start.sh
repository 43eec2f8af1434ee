#!/bin/sh
# Starts the compose stack's OpenLDAP in the foreground. On first start (no config in the data dir yet) it
# builds cn=config from slapd-config.ldif with the admin password from LDAP_ADMIN_PASSWORD_FILE.
# The directory's entries are loaded afterwards by seed-ldap.sh, while slapd runs, so memberOf is filled in.
#
# Environment (defaults are the container's): LDAP_DATA_DIR, LDAP_PORT, LDAP_ADMIN_PASSWORD_FILE,
# LDAP_CONFIG_TEMPLATE.
set -eu
PATH="$PATH:/usr/sbin:/sbin"
data="${LDAP_DATA_DIR:-/var/lib/ldap-data}"
port="${LDAP_PORT:-1389}"
template="${LDAP_CONFIG_TEMPLATE:-/etc/danang-sso-ldap/slapd-config.ldif}"
password_file="${LDAP_ADMIN_PASSWORD_FILE:-/run/secrets/ldap_admin_password}"

if [ ! -d "$data/slapd.d" ]; then
    mkdir -p "$data/db" "$data/slapd.d.new"
    hash="$(slappasswd -o module-load=argon2 -h '{ARGON2}' -T "$password_file")"
    sed -e "s|@ADMIN_PASSWORD_HASH@|$hash|" -e "s|@DATA@|$data|" "$template" > "$data/config.ldif"
    slapadd -n0 -F "$data/slapd.d.new" -l "$data/config.ldif"
    rm "$data/config.ldif"
    mv "$data/slapd.d.new" "$data/slapd.d"
fi
exec slapd -d 0 -h "ldap://0.0.0.0:$port/" -F "$data/slapd.d"
