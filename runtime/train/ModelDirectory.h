//===- ModelDirectory.h - Saved models as HuggingFace directories -*- C++ -*-===//
//
// finetune and pretrain save what HuggingFace's from_pretrained opens:
// model.safetensors (the parameters, HuggingFace names), config.json
// (BertConfig, from the program's constants, with the architecture and the
// label names), vocab.txt and tokenizer_config.json. Training state, when
// there is some, goes in a file of its own beside them.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_RUNTIME_TRAIN_MODELDIRECTORY_H
#define BERTC_RUNTIME_TRAIN_MODELDIRECTORY_H

#include "runtime/Program.h"
#include "runtime/Session.h"
#include "runtime/train/Tokenizer.h"

#include <string>
#include <vector>

namespace bertc::rt {

/// The HuggingFace class with `program`'s parameters: BertForPreTraining
/// (MLM and NSP heads), BertForSequenceClassification, BertForMaskedLM, or
/// BertModel.
std::string hfArchitecture(const Program &program);

/// Creates DIR if need be and writes DIR/config.json, DIR/vocab.txt and
/// DIR/tokenizer_config.json for a
/// model of `program` tokenized with `vocab`, each atomically; `labels`
/// (class names in id order) become id2label/label2id.
bool writeModelDescription(const std::string &dir, const Program &program, const Vocab &vocab,
                           const std::vector<std::string> &labels, std::string &error);

/// The vocabulary of a model: `vocabPath` when given, else the vocab.txt
/// (and tokenizer_config.json) of the HuggingFace model directory
/// `checkpoint` names. Its size must be the model's vocab_size.
bool loadModelVocab(const Program &program, const std::string &vocabPath,
                    const std::string &checkpoint, Vocab &vocab, std::string &error);

/// Loads the parameters the checkpoint `path` has into `session`, leaving
/// the others as they are (Session::loadMatchingParameters); with `print`,
/// its report goes to standard error as "WHO: --init: LINE".
bool initFromCheckpoint(Session &session, const std::string &path, const std::string &who,
                        bool print, std::string &error);

/// Puts the complete directory `staged` at `dir`, atomically: at every
/// moment `dir` is the old directory or the new one (an atomic exchange of
/// the two, then the old one removed). Where the file system cannot
/// exchange, the old one is renamed to `dir`.old first; findDirectory then
/// finds it after a crash between the two renames.
bool replaceDirectory(const std::string &staged, const std::string &dir, std::string &error);

/// `dir` if it exists, else `dir`.old if a replaceDirectory was cut short,
/// else "".
std::string findDirectory(const std::string &dir);

} // namespace bertc::rt

#endif // BERTC_RUNTIME_TRAIN_MODELDIRECTORY_H
