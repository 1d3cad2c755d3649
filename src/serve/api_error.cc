#include "serve/api_error.h"

#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace ragft::serve {

const char* type_name(const nlohmann::json& v) {
  using nlohmann::json;
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::string:
      return "a string";
    case json::value_t::array:
      return "an array";
    case json::value_t::object:
      return "an object";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "an integer";
    case json::value_t::number_float:
      return "a number";
    default:
      return "of another type";
  }
}

std::optional<ApiError> parse_json_object(std::string_view body, nlohmann::json& out) {
  out = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (out.is_discarded()) return bad_request("", "the request body is not valid JSON", "invalid_json");
  if (!out.is_object()) {
    return bad_request("", fmt::format("the request body must be a JSON object, not {}", type_name(out)), "invalid_type");
  }
  return std::nullopt;
}

JsonInt json_int64(const nlohmann::json& v, std::int64_t& out) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(INT64_MAX)) return JsonInt::kOutOfRange;
    out = static_cast<std::int64_t>(u);
    return JsonInt::kOk;
  }
  if (v.is_number_integer()) {
    out = v.get<std::int64_t>();
    return JsonInt::kOk;
  }
  if (!v.is_number_float()) return JsonInt::kNotInteger;
  const double d = v.get<double>();
  if (!std::isfinite(d) || d != std::trunc(d)) return JsonInt::kNotInteger;
  // int64 holds [-2^63, 2^63); both bounds are exact doubles.
  if (d < -9223372036854775808.0 || d >= 9223372036854775808.0) return JsonInt::kOutOfRange;
  out = static_cast<std::int64_t>(d);
  return JsonInt::kOk;
}

std::string api_error_body(const ApiError& e) {
  using nlohmann::json;
  json err = {{"message", e.message},
              {"type", e.type},
              {"param", e.param.empty() ? json(nullptr) : json(e.param)},
              {"code", e.code.empty() ? json(nullptr) : json(e.code)}};
  return json{{"error", std::move(err)}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

ApiError bad_request(std::string param, std::string message, std::string code) {
  return ApiError{400, std::move(message), "invalid_request_error", std::move(param), std::move(code)};
}

ApiError wrong_type(std::string param, std::string_view expected, const nlohmann::json& got) {
  std::string message = fmt::format("{} must be {}, not {}", param, expected, type_name(got));
  return bad_request(std::move(param), std::move(message), "invalid_type");
}

ApiError api_error_from(const Error& e, ErrorSource source, std::string_view what) {
  const bool upstream = source == ErrorSource::kUpstream;
  ApiError out;
  out.message = what.empty() ? e.message : fmt::format("{}: {}", what, e.message);
  switch (e.code) {
    case ErrorCode::kInvalidArgument:
      out.status = 400;
      out.code = "invalid_request";
      break;
    case ErrorCode::kUnsupported:
      out.status = 400;
      out.code = "unsupported";
      break;
    case ErrorCode::kNotFound:
      out.status = 404;
      out.code = "not_found";
      break;
    case ErrorCode::kResourceExhausted:
      out.status = upstream ? 502 : 400;
      out.code = "limit_exceeded";
      if (upstream) out.type = "upstream_error";
      break;
    case ErrorCode::kCancelled:
      out.status = 503;
      out.code = "cancelled";
      out.type = "server_error";
      break;
    case ErrorCode::kIo:
    case ErrorCode::kCorrupt:
    case ErrorCode::kInternal:
      out.status = upstream ? 502 : 500;
      out.type = upstream ? "upstream_error" : "server_error";
      out.code = upstream ? "upstream_error" : "internal_error";
      break;
  }
  return out;
}

}  // namespace ragft::serve
