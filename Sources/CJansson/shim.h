#ifndef UPWEIGHT_CJANSSON_SHIM_H
#define UPWEIGHT_CJANSSON_SHIM_H
#include <jansson.h>

// jansson's type tests are function-like macros, which Swift cannot call: wrap them.
static inline int upweight_json_typeof(const json_t *value) { return (int)json_typeof(value); }
static inline int upweight_json_is_object(const json_t *value) { return json_is_object(value); }
static inline int upweight_json_is_array(const json_t *value) { return json_is_array(value); }
static inline int upweight_json_is_string(const json_t *value) { return json_is_string(value); }
static inline int upweight_json_is_integer(const json_t *value) { return json_is_integer(value); }
static inline int upweight_json_is_real(const json_t *value) { return json_is_real(value); }
static inline int upweight_json_is_true(const json_t *value) { return json_is_true(value); }
static inline int upweight_json_is_null(const json_t *value) { return json_is_null(value); }

#endif
