//===- ModelDirectory.cpp - Saved models as HuggingFace directories -------===//
#include "runtime/train/ModelDirectory.h"

#include "runtime/AtomicFile.h"
#include "runtime/Checkpoint.h"
#include "runtime/HfConfig.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>

namespace bertc::rt {

std::string hfArchitecture(const Program &program) {
  auto has = [&](const char *name) {
    for (const ParameterDesc &p : program.parameters)
      if (p.name == name)
        return true;
    return false;
  };
  if (has("cls.seq_relationship.weight"))
    return "BertForPreTraining";
  if (has("classifier.weight"))
    return "BertForSequenceClassification";
  if (has("cls.predictions.bias"))
    return "BertForMaskedLM";
  return "BertModel";
}

bool writeModelDescription(const std::string &dir, const Program &program, const Vocab &vocab,
                           const std::vector<std::string> &labels, std::string &error) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    error = dir + ": cannot create: " + ec.message();
    return false;
  }
  std::string config = writeHfConfig(program.config, hfArchitecture(program), labels).dump() + "\n";
  std::string tokens;
  for (int32_t i = 0; i < vocab.size(); ++i)
    tokens += vocab.token(i) + "\n";
  Json tokenizer = Json::object();
  tokenizer["do_lower_case"] = Json(vocab.lowerCase);
  tokenizer["tokenizer_class"] = Json("BertTokenizer");
  if (const Json *max = program.config.find("max_position"))
    tokenizer["model_max_length"] = *max;
  std::string tokenizerText = tokenizer.dump() + "\n";
  return writeFileAtomically(dir + "/config.json", {config}, error) &&
         writeFileAtomically(dir + "/vocab.txt", {tokens}, error) &&
         writeFileAtomically(dir + "/tokenizer_config.json", {tokenizerText}, error);
}

bool loadModelVocab(const Program &program, const std::string &vocabPath,
                    const std::string &checkpoint, Vocab &vocab, std::string &error) {
  std::string from = vocabPath;
  if (!vocabPath.empty()) {
    if (!Vocab::load(vocabPath, vocab, error))
      return false;
  } else if (std::string dir = checkpointDirectory(checkpoint); !dir.empty()) {
    if (!Vocab::loadFromModelDirectory(dir, vocab, error))
      return false;
    from = (std::filesystem::path(dir) / "vocab.txt").string();
  } else {
    error = "give --vocab FILE (or a model directory with vocab.txt as the checkpoint)";
    return false;
  }
  if (program.configInt("vocab_size", -1) != vocab.size()) {
    error = from + ": " + std::to_string(vocab.size()) + " tokens, the model's vocab_size is " +
            std::to_string(program.configInt("vocab_size", -1));
    return false;
  }
  return true;
}

bool initFromCheckpoint(Session &session, const std::string &path, const std::string &who,
                        bool print, std::string &error) {
  LoadReport report;
  if (!session.loadMatchingParameters(path, error, report))
    return false;
  if (print)
    for (const std::string &line : report.lines())
      std::fprintf(stderr, "%s: --init: %s\n", who.c_str(), line.c_str());
  return true;
}

bool replaceDirectory(const std::string &staged, const std::string &dir, std::string &error) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::string parent = fs::path(dir).parent_path().string();
  if (parent.empty())
    parent = ".";
  if (!fs::exists(dir, ec)) {
    if (std::rename(staged.c_str(), dir.c_str()) != 0) {
      error = dir + ": cannot write: " + std::strerror(errno);
      return false;
    }
  } else if (::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, dir.c_str(), RENAME_EXCHANGE) == 0) {
    fs::remove_all(staged, ec); // Now the old directory.
  } else {
    std::string old = dir + ".old";
    fs::remove_all(old, ec);
    if (std::rename(dir.c_str(), old.c_str()) != 0 ||
        std::rename(staged.c_str(), dir.c_str()) != 0) {
      error = dir + ": cannot write: " + std::strerror(errno);
      return false;
    }
    fs::remove_all(old, ec);
  }
  syncDirectory(parent);
  return true;
}

std::string findDirectory(const std::string &dir) {
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec))
    return dir;
  if (std::filesystem::is_directory(dir + ".old", ec))
    return dir + ".old";
  return "";
}

} // namespace bertc::rt
