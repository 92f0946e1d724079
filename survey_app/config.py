"""Default configuration; instance/config.py, MILIEU_* variables and test overrides come after."""

MAX_CONTENT_LENGTH = 5 * 1024 * 1024  # any request body, 5 MiB at most
TRANSCRIPT_MAX_BYTES = 2_000_000  # one transcript, uploaded or pasted
#: one form field held in memory (Werkzeug's default is 500 kB): a pasted transcript of
#: TRANSCRIPT_MAX_BYTES, whose line ends the browser sends as CRLF, must fit
MAX_FORM_MEMORY_SIZE = 4 * 1024 * 1024
#: an uploaded transcript is read in a child process with these limits (CPU seconds, bytes of
#: address space), at most TRANSCRIPT_PARSE_CONCURRENCY at once per web process
TRANSCRIPT_PARSE_SECONDS = 20
TRANSCRIPT_PARSE_MEMORY = 1_000_000_000
TRANSCRIPT_PARSE_CONCURRENCY = 2
#: a REFI-QDA file uploaded for import: the request limit above bounds the file itself; this
#: bounds what a .qdpx archive may unpack to
REFI_IMPORT_MAX_UNPACKED = 200_000_000
SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
SQLALCHEMY_TRACK_MODIFICATIONS = False
SESSION_COOKIE_HTTPONLY = True
#: sent with every page: scripts and styles from this site only (no inline script), no framing
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = False  # set MILIEU_SESSION_COOKIE_SECURE=true behind HTTPS
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_SAMESITE = "Lax"
WTF_CSRF_TIME_LIMIT = 8 * 3600  # a long interview must not lose its form token
BABEL_DEFAULT_LOCALE = "fr"
LANGUAGES = ("fr", "en")
#: werkzeug password hashing; the test suite uses a cheaper pbkdf2 to stay fast
PASSWORD_HASH_METHOD = "scrypt"
#: failed logins of one name from one address before it must wait (four times that from any
#: address); the wait starts at LOGIN_BACKOFF_SECONDS and doubles per further failure, up to
#: the window
LOGIN_MAX_FAILURES = 5
LOGIN_FAILURE_WINDOW_SECONDS = 15 * 60
LOGIN_BACKOFF_SECONDS = 30
#: behind a reverse proxy, the number of proxies whose X-Forwarded-For/-Proto/-Host headers
#: are trusted (Werkzeug's ProxyFix); 0, the default, trusts none: a client could forge them
PROXY_FIX_X_FOR = 0
#: job queue: Huey on SQLite in the instance folder unless REDIS_URL is set
REDIS_URL = None
HUEY_IMMEDIATE = False
#: a running job's worker renews its lease every JOB_HEARTBEAT_SECONDS; a job whose lease is
#: older than JOB_LEASE_SECONDS lost its worker and is queued again once, then failed
JOB_HEARTBEAT_SECONDS = 15
JOB_LEASE_SECONDS = 90
#: business-register files for the territory profile page (none set: the demo extract);
#: REGISTRY_FILE is a SIRENE establishment stock, GEOGRAPHY_FILE INSEE's commune table;
#: LEGAL_UNITS_FILE, SIRENE's legal-unit stock, gives the establishments their legal category;
#: CURATED_FILE lists relay actors SIRENE does not show (CODGEO, category)
REGISTRY_FILE = None
GEOGRAPHY_FILE = None
POPULATION_FILE = None
AREA_FILE = None
LEGAL_UNITS_FILE = None
CURATED_FILE = None
