// Record-level readers behind ingest.cpp's formats (ingest.h): delimiter and header sniffing,
// missing-value tokens, access-log lines and times, a small JSON value parser, and the mapping
// of GA4, Segment and per-session JSON records to the event fields. Each function reads one
// line or record and never throws; what fails says why in *why. ingest.cpp turns the results
// into rows (and counts, in the cleaning report, what it skips).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hunch::train::formats {

// Shared text helpers of the readers: n decimal digits at p (advanced past them), days since
// 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil), a code point as UTF-8.
bool    read_digits(const char*& p, const char* e, int n, int* out);
// The same name with everything but ASCII letters and digits left out, in any case: "userId",
// "User ID" and "user_id" are one.
bool    same_letters(std::string_view a, std::string_view b);
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
bool    valid_date(int y, int m, int d);  // a Gregorian date that exists (29 February in leap years)
void    append_utf8(std::string* out, uint32_t cp);

// True for the missing-id tokens: NA, N/A, null, None, undefined, nan, - (any case; the empty
// value is missing anyway).
bool is_missing_token(const std::string& v);

// The delimiter of a CSV-like text from its first bytes: among ',', ';', '\t' and '|', the one
// found the same number of times (>= 1, outside double quotes) on each of the first complete
// lines (at most 20), the one found most often first; `prefer` wins when it qualifies. Without
// a consistent one, the one most often on the first line; 0 when none occurs.
char sniff_delimiter(const std::string& head, char prefer);

// A first row that is data, not a header: some field is a number or a time (parse_time) and
// none is one of `names` (case-insensitive).
bool looks_like_data(const std::vector<std::string>& fields, const std::vector<std::string>& names);
// Whether a field of a first row is one of the column names (case-insensitively): a header.
bool names_a_column(const std::vector<std::string>& fields, const std::vector<std::string>& names);

// "dd/Mon/yyyy:hh:mm:ss ±zzzz" or "dd/MM/yyyy:hh:mm:ss ±zzzz", in [brackets] or not, the zone
// optional (UTC). False when it is not one.
bool parse_access_time(const char* b, const char* e, double* seconds);

// One access-log line: common (`host ident user [time] "METHOD path proto" status bytes`),
// combined (+ `"referer" "agent"`) or unquoted (`host ident user dd/MM/yyyy:hh:mm:ss +zzzz METHOD
// path [proto] [status bytes …]`). status -1 when absent; agent empty when absent or "-".
struct AccessRecord {
  std::string host, time, method, path, agent;
  int         status = -1;
};
bool parse_access_line(const std::string& line, AccessRecord* out, std::string* why);
// An image, style sheet, script, font, media or source-map path (by extension).
bool is_static_asset(const std::string& path);
// The path of a URL or path: scheme and host, query and fragment removed ("/" when empty).
std::string url_path(const std::string& url);

// A JSON value. Numbers keep their text; strings are decoded. Depth is capped at 64.
struct Json {
  enum Kind : uint8_t { NUL, BOOL, NUMBER, STRING, ARRAY, OBJECT };
  Kind                                      kind = NUL;
  std::string                               text;     // BOOL ("true"/"false"), NUMBER, STRING
  std::vector<std::pair<std::string, Json>> members;  // OBJECT, in order
  std::vector<Json>                         items;    // ARRAY
  const Json* get(const std::string& key) const;      // OBJECT member or nullptr
  bool        scalar() const { return kind == BOOL || kind == NUMBER || kind == STRING; }
};
// Parses [b, e) as exactly one value (white space around it allowed).
bool parse_json(const char* b, const char* e, Json* out, std::string* why);

// The fields an event record gives (ingest.cpp's roles plus the session).
enum Field { F_USER = 0, F_TIME, F_ACTION, F_TYPE, F_SESSION, FIELDS };
struct EventFields {
  bool        present[FIELDS] = {};
  std::string value[FIELDS];
  // The object whose scalar members describe the event's action (attribute columns: a Segment
  // call's properties, a GA4 row's first item, a per-session event itself); null for none. Points
  // into the parsed record: valid while it is.
  const Json* attributes = nullptr;
  void        clear() {
    for (int i = 0; i < FIELDS; ++i) present[i] = false, value[i].clear();
    attributes = nullptr;
  }
};

// What a first JSON record looks like (format sniffing, ingest.h).
enum class JsonShape { FLAT, GA4, SEGMENT, NESTED, ANALYTICS };
// NESTED sets *events_field (the key of the events array).
JsonShape json_shape(const Json& record, const std::vector<std::string>& action_keys,
                     std::string* events_field);

// GA4 BigQuery export row → fields (user_pseudo_id or user_id, event_timestamp, the path of the
// page_location parameter (else page_path, firebase_screen, screen_name), event_name, ga_session_id).
// False + *why when the record is not an object.
bool ga4_event(const Json& record, EventFields* out, std::string* why);

// Segment call → fields (anonymousId, else userId; timestamp, else originalTimestamp, sentAt,
// receivedAt; track: event; page: properties.path, else context.page.path, else name; screen:
// properties.path, else name; the call type is the event type). Returns 1 for an event (track / page / screen), 0 for a call that is
// not one (identify, group, alias: *why says which), -1 + *why when the record is not a call.
int segment_event(const Json& record, EventFields* out, std::string* why);

// A product-analytics event (Mixpanel's export, PostHog's, Amplitude's): an event name (event,
// event_type or event_name) and a properties object (properties or event_properties). The user
// is distinct_id, amplitude_id, user_id, userId or device_id at the top or in the properties
// ($user_id, $device_id too); the time timestamp, time or event_time (top first, then properties' time /
// $time); the action the product the properties name (product_id, item_id, sku, item), else the
// page ($pathname, path, or the path of $current_url / url / page_url), else the event name;
// the event name is the type; the session $session_id / session_id (Amplitude's -1, no session,
// is none). False + *why when the record is not an object with an event name. json_shape takes a
// record for one when its properties hold such keys (or it has distinct_id, amplitude_id or
// device_id at the top) and no action key is at the top.
bool analytics_event(const Json& record, EventFields* out, std::string* why);

}  // namespace hunch::train::formats
