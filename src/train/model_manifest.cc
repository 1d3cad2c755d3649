#include "train/model_manifest.h"

#include "core/env.h"

namespace ragft {

namespace fs = std::filesystem;

Status write_manifest(const fs::path& dir, const ModelManifest& m) {
  RAGFT_TRY_STATUS(Env::posix().create_dirs(dir));
  nlohmann::json j = {{"format_version", m.format_version},
                      {"task", m.task},
                      {"kind", m.kind},
                      {"labels", m.labels},
                      {"train_data_hash", m.train_data_hash},
                      {"config", m.config},
                      {"metrics", m.metrics},
                      {"train_seconds", m.train_seconds},
                      {"extra", m.extra}};
  return Env::posix().write_file_atomic(dir / "model.json", j.dump(2) + "\n");
}

Result<ModelManifest> read_manifest(const fs::path& dir) {
  fs::path file = dir / "model.json";
  auto text = Env::posix().read_file(file);
  if (!text.ok()) {
    if (text.error().code == ErrorCode::kNotFound) {
      return make_error(ErrorCode::kNotFound, "{} is not a ragft model directory (no model.json)",
                        dir.string());
    }
    return text.take_error();
  }
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return make_error(ErrorCode::kCorrupt, "{}: not a JSON object", file.string());
  }
  ModelManifest m;
  auto field = [&](const char* name, auto& out) -> Status {
    if (!j.contains(name)) return make_error(ErrorCode::kCorrupt, "{}: missing field \"{}\"", file.string(), name);
    try {
      j.at(name).get_to(out);
    } catch (const std::exception& e) {
      return make_error(ErrorCode::kCorrupt, "{}: field \"{}\": {}", file.string(), name, e.what());
    }
    return ok_status();
  };
  RAGFT_TRY_STATUS(field("format_version", m.format_version));
  if (m.format_version > kModelFormatVersion) {
    return make_error(ErrorCode::kUnsupported, "{}: format_version {} is newer than this ragft ({})",
                      file.string(), m.format_version, kModelFormatVersion);
  }
  RAGFT_TRY_STATUS(field("task", m.task));
  RAGFT_TRY_STATUS(field("kind", m.kind));
  RAGFT_TRY_STATUS(field("labels", m.labels));
  RAGFT_TRY_STATUS(field("train_data_hash", m.train_data_hash));
  RAGFT_TRY_STATUS(field("config", m.config));
  RAGFT_TRY_STATUS(field("train_seconds", m.train_seconds));
  if (j.contains("metrics")) m.metrics = j["metrics"];
  if (j.contains("extra")) m.extra = j["extra"];
  if (m.task != "classify" && m.task != "extract") {
    return make_error(ErrorCode::kCorrupt, "{}: field \"task\" must be classify or extract, got \"{}\"",
                      file.string(), m.task);
  }
  return m;
}

}  // namespace ragft
