"""Fixed vocabularies for the demo data (names, places, categories): data, not logic."""

from __future__ import annotations

FIRST_NAMES = (
    "Ava", "Ben", "Chloe", "Daniel", "Emma", "Felix", "Grace", "Hugo", "Isla", "Jack", "Kara",
    "Liam", "Maya", "Noah", "Olivia", "Pablo", "Quinn", "Ruby", "Sam", "Tara", "Uma", "Victor",
    "Wen", "Xavier", "Yara", "Zane", "Aisha", "Bruno", "Carmen", "Dmitri", "Elif", "Farah",
    "Giulia", "Hiro", "Ines", "Jonas", "Kofi", "Lena", "Mateo", "Nadia", "Omar", "Priya",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Garcia", "Brown", "Lee", "Martin", "Nguyen", "Khan", "Rossi",
    "Müller", "Silva", "Kowalski", "Dubois", "Tanaka", "Okafor", "Jensen", "Novak", "Cohen",
    "Haddad", "Ivanova", "Larsen", "Moreau", "Patel", "Quispe", "Ramos", "Schmidt", "Torres",
    "Walker", "Young", "Zhang", "Andersen", "Baker", "Costa", "Diaz", "Evans", "Fischer",
)  # fmt: skip
PLACES = (  # city, state (empty outside the US), country
    ("New York", "NY", "US"), ("Los Angeles", "CA", "US"), ("Chicago", "IL", "US"),
    ("Houston", "TX", "US"), ("Seattle", "WA", "US"), ("Boston", "MA", "US"),
    ("Miami", "FL", "US"), ("Denver", "CO", "US"), ("Atlanta", "GA", "US"),
    ("Toronto", "", "CA"), ("Vancouver", "", "CA"), ("London", "", "GB"),
    ("Manchester", "", "GB"), ("Paris", "", "FR"), ("Berlin", "", "DE"), ("Munich", "", "DE"),
    ("Madrid", "", "ES"), ("Milan", "", "IT"), ("Amsterdam", "", "NL"), ("Stockholm", "", "SE"),
    ("São Paulo", "", "BR"), ("Mexico City", "", "MX"), ("Tokyo", "", "JP"),
    ("Sydney", "", "AU"), ("Mumbai", "", "IN"), ("Singapore", "", "SG"),
)  # fmt: skip
PLACE_WEIGHTS = (
    9, 6, 5, 4, 3, 3, 3, 2, 2, 3, 2, 5, 2, 4, 4, 2, 3, 2, 2, 1, 2, 2, 3, 2, 3, 2,
)  # fmt: skip
GENDERS = ("female", "male", "nonbinary")
TIERS = ("bronze", "silver", "gold", "platinum")
JOB_TITLES = (
    "Engineer", "Teacher", "Nurse", "Designer", "Analyst", "Manager", "Student", "Consultant",
    "Developer", "Accountant", "Chef", "Lawyer", "Retired", "Sales Associate", "Director",
)  # fmt: skip
CATEGORIES = (
    "Security", "Networking", "Storage", "Software", "Accessories", "Audio", "Cameras",
    "Smart Home", "Gaming", "Services",
)  # fmt: skip
PRODUCT_WORDS = ("Pro", "Max", "Lite", "One", "Air", "Edge", "Core", "Plus", "Mini", "Ultra")
CHANNELS = ("web", "store", "phone", "marketplace")
CHANNEL_WEIGHTS = (0.5, 0.3, 0.08, 0.12)
PRIORITIES = ("low", "normal", "high", "critical")
DEVICES = ("desktop", "mobile", "tablet")
PAGES = ("/", "/pricing", "/support", "/blog", "/account", "/checkout", "/search")
CAMPAIGNS = ("newsletter", "spring-sale", "product-launch", "webinar-invite", "renewal-reminder")
EVENTS = ("expo", "roadshow", "webinar", "user-conference", "product-workshop")
LEAD_SOURCES = ("web", "email", "event", "referral", "partner")
INDUSTRIES = (
    "Manufacturing", "Retail", "Finance", "Healthcare", "Technology", "Education", "Energy",
    "Logistics", "Media", "Public Sector",
)  # fmt: skip
COMPANY_WORDS = (
    "Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Tyrell", "Cyberdyne", "Soylent",
    "Hooli", "Vandelay", "Wonka", "Oscorp", "Aperture", "Gringotts", "Monarch", "Nakatomi",
)  # fmt: skip
COMPANY_SUFFIXES = ("Inc", "Ltd", "GmbH", "Group", "Systems", "Labs", "Partners", "Holdings")
CONTACT_ROLES = ("billing", "technical", "other")
