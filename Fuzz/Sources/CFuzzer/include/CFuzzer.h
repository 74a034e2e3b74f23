// libFuzzer's driver, for a fuzz target with a main of its own (SwiftPM names the entry
// point of an executable module itself, so the targets cannot use libFuzzer's main).
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));
