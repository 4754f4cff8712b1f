# The CLI's fingerprints of the example scenarios against the golden files
# (label golden: CI's clang Release stage runs it as well as gcc Debug's).
add_test(NAME golden/cli-fingerprints
         COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/cli_fingerprints.sh $<TARGET_FILE:vnetsim_cli>
                 ${PROJECT_BINARY_DIR}/golden-cli ${PROJECT_SOURCE_DIR})
set_tests_properties(golden/cli-fingerprints PROPERTIES LABELS "golden;cli" TIMEOUT 300)
