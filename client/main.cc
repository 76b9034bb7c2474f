// Entry point of the `sluice` client binary.
#include "client/cli.h"

int main(int argc, char** argv) { return sluice::runCli(argc, argv); }
