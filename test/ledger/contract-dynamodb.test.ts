import { ledgerContract } from "./contract";

ledgerContract("dynamodb");
