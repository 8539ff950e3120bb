"""Country -> locale and time zone, so copy uses the right spelling, currency and hours.

The UCI data names countries in free English ("EIRE", "RSA", "Channel Islands",
"European Community", "Unspecified"); unknown names fall back to the brand's
home locale (en-GB) with no time zone rather than guessing.
"""

from __future__ import annotations

from typing import NamedTuple


class Locale(NamedTuple):
    locale: str
    timezone: str | None


DEFAULT = Locale("en-GB", None)

_BY_COUNTRY: dict[str, Locale] = {
    "united kingdom": Locale("en-GB", "Europe/London"),
    "uk": Locale("en-GB", "Europe/London"),
    "channel islands": Locale("en-GB", "Europe/London"),
    "eire": Locale("en-IE", "Europe/Dublin"),
    "ireland": Locale("en-IE", "Europe/Dublin"),
    "germany": Locale("de-DE", "Europe/Berlin"),
    "france": Locale("fr-FR", "Europe/Paris"),
    "spain": Locale("es-ES", "Europe/Madrid"),
    "netherlands": Locale("nl-NL", "Europe/Amsterdam"),
    "belgium": Locale("nl-BE", "Europe/Brussels"),
    "switzerland": Locale("de-CH", "Europe/Zurich"),
    "portugal": Locale("pt-PT", "Europe/Lisbon"),
    "australia": Locale("en-AU", "Australia/Sydney"),
    "norway": Locale("nb-NO", "Europe/Oslo"),
    "italy": Locale("it-IT", "Europe/Rome"),
    "finland": Locale("fi-FI", "Europe/Helsinki"),
    "cyprus": Locale("el-CY", "Asia/Nicosia"),
    "sweden": Locale("sv-SE", "Europe/Stockholm"),
    "austria": Locale("de-AT", "Europe/Vienna"),
    "denmark": Locale("da-DK", "Europe/Copenhagen"),
    "japan": Locale("ja-JP", "Asia/Tokyo"),
    "poland": Locale("pl-PL", "Europe/Warsaw"),
    "israel": Locale("he-IL", "Asia/Jerusalem"),
    "usa": Locale("en-US", "America/New_York"),
    "united states": Locale("en-US", "America/New_York"),
    "hong kong": Locale("zh-HK", "Asia/Hong_Kong"),
    "singapore": Locale("en-SG", "Asia/Singapore"),
    "iceland": Locale("is-IS", "Atlantic/Reykjavik"),
    "canada": Locale("en-CA", "America/Toronto"),
    "greece": Locale("el-GR", "Europe/Athens"),
    "malta": Locale("en-MT", "Europe/Malta"),
    "united arab emirates": Locale("ar-AE", "Asia/Dubai"),
    "rsa": Locale("en-ZA", "Africa/Johannesburg"),
    "south africa": Locale("en-ZA", "Africa/Johannesburg"),
    "lebanon": Locale("ar-LB", "Asia/Beirut"),
    "lithuania": Locale("lt-LT", "Europe/Vilnius"),
    "brazil": Locale("pt-BR", "America/Sao_Paulo"),
    "czech republic": Locale("cs-CZ", "Europe/Prague"),
    "bahrain": Locale("ar-BH", "Asia/Bahrain"),
    "saudi arabia": Locale("ar-SA", "Asia/Riyadh"),
}


def locale_for_country(country: str | None) -> Locale:
    """Best-known locale and IANA zone for a country name; the default when unknown."""
    if not country:
        return DEFAULT
    return _BY_COUNTRY.get(country.strip().lower(), DEFAULT)
