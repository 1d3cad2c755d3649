#include "train/neural_backend.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>

namespace ragft {

namespace {

constexpr const char* kLibrary = "libragft_torch.so";

std::filesystem::path executable_dir() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path() : p.parent_path();
}

Result<const NeuralBackend*> load() {
  using Entry = const NeuralBackend* (*)();
  // Already in the process (a binary linked against it, e.g. the tests)?
  void* h = ::dlopen(kLibrary, RTLD_NOW | RTLD_NOLOAD);
  std::string tried;
  auto attempt = [&](const std::string& path) {
    if (h) return;
    h = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      const char* e = ::dlerror();  // names the path
      tried += fmt::format("\n  {}", e ? e : path + ": not loadable");
    }
  };
  if (const char* env = std::getenv("RAGFT_TORCH_LIB"); env && *env) attempt(env);
  if (auto dir = executable_dir(); !dir.empty()) attempt((dir / kLibrary).string());
  attempt(kLibrary);
  if (!h) {
    return make_error(ErrorCode::kUnsupported,
                      "the neural models need {} (built with libtorch: scripts/setup, RAGFT_WITH_TORCH=ON); tried:{}",
                      kLibrary, tried);
  }
  auto entry = reinterpret_cast<Entry>(::dlsym(h, "ragft_torch_backend"));
  if (!entry) return make_error(ErrorCode::kUnsupported, "{} has no ragft_torch_backend entry point", kLibrary);
  const NeuralBackend* b = entry();
  if (!b || b->abi != kNeuralBackendAbi) {
    return make_error(ErrorCode::kUnsupported, "{} has backend version {}, this ragft needs {}: rebuild both", kLibrary,
                      b ? b->abi : -1, kNeuralBackendAbi);
  }
  return b;
}

}  // namespace

Result<const NeuralBackend*> neural_backend() {
  static std::once_flag once;
  static Result<const NeuralBackend*> backend = make_error(ErrorCode::kInternal, "not loaded");
  std::call_once(once, [] { backend = load(); });
  return backend;
}

Result<std::unique_ptr<TokenGenerator>> make_token_generator(const std::filesystem::path& dir, const LlamaOptions& options) {
  RAGFT_TRY(const NeuralBackend* backend, neural_backend());
  return backend->load_llama(dir, options);
}

Result<std::unique_ptr<Embedder>> make_bert_embedder(std::string_view config) {
  RAGFT_TRY(BertEmbedderOptions options, BertEmbedderOptions::parse(config));
  RAGFT_TRY(const NeuralBackend* backend, neural_backend());
  return backend->load_bert_embedder(options);
}

}  // namespace ragft
